import { csv } from './csv.ts';
import { folder } from './folder.ts';
import { nih } from './nih.ts';
import type { DatasetAdapter } from './types.ts';

export * from './csv.ts';
export * from './folder.ts';
export * from './nih.ts';
export * from './patient.ts';
export * from './types.ts';

/** Data set adapters by name. An NIH adapter (images/ + Data_Entry CSV + split lists) adds one line. */
export const ADAPTERS = { folder, csv, nih } as const;
export type AdapterName = keyof typeof ADAPTERS;

export function getAdapter(name: string): DatasetAdapter<unknown> {
  const a = (ADAPTERS as Record<string, DatasetAdapter<unknown>>)[name];
  if (!a) throw new Error(`unknown data set adapter '${name}': choose one of ${Object.keys(ADAPTERS).join(', ')}`);
  return a;
}
