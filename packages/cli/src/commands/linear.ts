import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ResultRow, STUDY_PROTOCOL, evalFlags } from '@cxr-ssl/eval';
import type { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { flagFields } from '../evaluation.ts';
import { strList } from '../options.ts';
import { EvalCommandOptions, EvalOptions, type ReportExtras, runEval } from './eval.ts';

/** The study's protocol's options and feature extraction: what `linear` sets of EvalSettings. */
const LINEAR_FLAGS = evalFlags({ grid: false, protocols: [STUDY_PROTOCOL] });

/** The study's protocol: `eval --protocol linear` on all labels, one seed. */
export const LinearOptions = EvalCommandOptions.extend({
  encoders: strList()
    .optional()
    .meta(arg('<list>', "comma-separated: pretext run folders (or names under --runs-dir) and/or 'random', 'random-bn' (default: every finished run under --runs-dir, and random)")),
  out: EvalCommandOptions.shape.out.unwrap().optional().meta(arg('<dir>', 'where results.json / results.md go (default <runs-dir>/linear-<data>-<size>); an earlier evaluation there is refused unless --overwrite')),
  ...flagFields(LINEAR_FLAGS),
}).strict();
export type LinearOptions = z.infer<typeof LinearOptions>;

/** The default encoders: every finished pretext run (encoder.onnx + config.json, not an export folder) under runsDir. */
export function finishedRuns(runsDir: string): string[] {
  const dir = resolve(runsDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    // an export folder (model.safetensors, cxr-ssl export --out under the runs) is not a run
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'encoder.onnx')) && existsSync(join(dir, d.name, 'config.json')) && !existsSync(join(dir, d.name, 'model.safetensors')))
    .map((d) => join(dir, d.name))
    .sort();
}

/** The `linear` command: one row per named encoder, written as results.json / results.md. */
export async function evaluateEncoders(o: LinearOptions, report: ReportExtras = {}): Promise<{ rows: ResultRow[]; out: string }> {
  let encoders = o.encoders;
  if (!encoders) {
    const runs = finishedRuns(o.runsDir);
    const found = runs.length ? `the ${runs.length} finished pretext run(s) under ${resolve(o.runsDir)} and random init` : `random init only (no finished pretext run under ${resolve(o.runsDir)})`;
    if (!o.quiet) process.stderr.write(`no --encoders: evaluating ${found}\n`);
    encoders = [...runs, 'random'];
  }
  const opts = EvalOptions.parse({ ...o, encoders, protocol: [STUDY_PROTOCOL], out: o.out ?? join(o.runsDir, `linear-${o.data}-${o.size}`) });
  return runEval(opts, { title: `Linear evaluation on ${o.data} at ${o.size} px`, ...report });
}

export const linear = defineCommand({
  name: 'linear',
  summary: 'Linear evaluation (frozen encoder -> 2 dense layers, normal vs abnormal) of pretext runs and baselines',
  schema: LinearOptions,
  async run(o) {
    const { out } = await evaluateEncoders(o);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
