import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encoderSpec, readSafetensors } from '@cxr-ssl/models';
import { readLatestCheckpoint } from '../checkpoint.ts';
import { PretextConfig } from '../config.ts';
import { openRunData } from '../run-data.ts';
import type { CardRow } from './card.ts';
import { writeHubExport } from './hub.ts';
import { RUN_EXPORT_DIR } from './target.ts';


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
  return writeHubExport(resolve(outDir), { spec, weights, run, steps, rows, runDir, trainImages: trainImagesOf(runDir, run) });
}

/** The train images of a run: from its end-of-run export, else its prepared set or pool (when still there). */
function trainImagesOf(runDir: string, run: PretextConfig): number | undefined {
  try {
    const known = JSON.parse(readFileSync(join(runDir, RUN_EXPORT_DIR, 'config.json'), 'utf8')).dataset?.train_images;
    if (typeof known === 'number') return known;
  } catch {
    // no export at the run's end (an older run): the prepared set says
  }
  try {
    return openRunData(run.cache).trainImages; // a pool's: every set's
  } catch {
    return undefined;
  }
}
