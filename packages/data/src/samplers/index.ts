import { byol } from './byol.ts';
import { context } from './context.ts';
import { dino } from './dino.ts';
import { jigsaw } from './jigsaw.ts';
import { moco } from './moco.ts';
import { rotation } from './rotation.ts';
import { simclr } from './simclr.ts';
import type { PretextTask } from './task.ts';

export * from './byol.ts';
export * from './context.ts';
export * from './dino.ts';
export * from './geometry.ts';
export * from './jigsaw.ts';
export * from './permutations.ts';
export * from './moco.ts';
export * from './rotation.ts';
export * from './simclr.ts';
export * from './views.ts';
export { paintSample, type PretextTask } from './task.ts';

/** The methods' samplers by name. Adding a method = one file here + one line below. */
export const SAMPLERS = { rotation, context, jigsaw, simclr, moco, byol, dino } as const;
export type SamplerName = keyof typeof SAMPLERS;

export function getSampler(name: string): PretextTask<unknown> {
  const t = (SAMPLERS as Record<string, PretextTask<unknown>>)[name];
  if (!t) throw new Error(`unknown method '${name}': choose one of ${Object.keys(SAMPLERS).join(', ')}`);
  return t;
}
