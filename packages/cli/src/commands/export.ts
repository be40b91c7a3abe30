import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readResultsFile, type ResultRow, weightsHash } from '@cxr-ssl/eval';
import { readSafetensors } from '@cxr-ssl/models';
import { exportRun, exportTargetProblem } from '@cxr-ssl/train';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';

export const ExportOptions = z
  .object({
    run: z.string().min(1).meta(arg('<dir>', 'the pretext run folder (config.json, encoder.safetensors)')),
    out: z.string().min(1).meta(arg('<dir>', 'folder to write: new, empty, or an earlier export of the same run (never a run folder or one that holds runs)')),
    /** results.json whose rows of this run go into the model card */
    results: z.string().optional().meta(arg('<file>', "results.json of an evaluation: this run's rows go into the model card")),
  })
  .strict();

/** The rows of a results file that evaluated this run's encoder: of its folder and, where a row records them, of its weights as they are now (not an earlier training of the run). */
export function rowsOfRun(rows: ResultRow[], runDir: string): ResultRow[] {
  const want = resolve(runDir);
  const file = join(want, 'encoder.safetensors');
  const now = existsSync(file) ? weightsHash(readSafetensors(file).weights) : undefined;
  return rows.filter((r) => r.pretext && resolve(r.pretext.run) === want && (!r.weights_sha256 || r.weights_sha256 === now));
}

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Write a finished pretext run as a hub-like folder: model.safetensors, config.json, encoder.onnx, README.md (model card)',
  positional: { name: 'run', option: 'run' },
  schema: ExportOptions,
  async run(o) {
    // before reading anything: a folder cxr-ssl did not make for this run's export is not touched
    const problem = exportTargetProblem(o.out, o.run);
    if (problem) throw new UsageError(`--out ${o.out}: ${problem}`);
    const rows = o.results ? rowsOfRun(readResultsFile(resolve(o.results)).rows, o.run) : [];
    if (o.results && rows.length === 0) process.stderr.write(`note: ${o.results} has no row evaluating ${o.run} as its weights are now; the card says so\n`);
    const { dir, config } = exportRun(o.run, o.out, rows);
    console.log(`wrote ${dir}: ${config.encoder} (${config.method}, ${config.steps} steps), ${rows.length} evaluation row(s) in README.md`);
  },
});
