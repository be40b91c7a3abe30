import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { encoderSpec, readSafetensors } from '@cxr-ssl/models';
import { readLatestCheckpoint } from '../checkpoint.ts';
import { PretextConfig } from '../config.ts';
import type { CardRow } from './card.ts';
import { writeHubExport } from './hub.ts';

/** The folder a finished pretext run exports to at its end. */
export const RUN_EXPORT_DIR = 'export';

/** A finished run folder (config.json + encoder.safetensors) -> a hub folder at `outDir`. */
export function exportRun(runDir: string, outDir: string, rows: CardRow[] = []) {
  const configPath = join(runDir, 'config.json');
  const weightsPath = join(runDir, 'encoder.safetensors');
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) throw new Error(`${p} not found: ${runDir} is not a finished pretext run (it needs config.json and encoder.safetensors)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: not JSON (${(e as Error).message})`);
  }
  const parsed = PretextConfig.safeParse(raw);
  if (!parsed.success) throw new Error(`${configPath}: not a pretext run's config (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  const run = parsed.data;
  const spec = encoderSpec(run.encoder);
  const { weights } = readSafetensors(weightsPath);
  const steps = readLatestCheckpoint(runDir)?.state.step ?? 0;
  return writeHubExport(resolve(outDir), { spec, weights, run, steps, rows, runName: basename(resolve(runDir)) });
}
