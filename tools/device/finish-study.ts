/**
 * Finishes a reproduce whose output came back from the GPU box without weights (gpu-check.sh returns
 * rows, curves and configs, never encoders: they exceed what the device returns): the method rows are
 * taken as they are, the reference inits (random, random-bn) are evaluated here on the same images
 * (prepared from --source with the study's own split seed and validation fraction), and results.md /
 * results.json / plots are written into the study folder. A method with no rows is listed as missing.
 *   npx tsx tools/device/finish-study.ts --study docs/results/h200-2026-12-04/study --source <kermany subset>
 * The features of the reference rows come from onnxruntime here, not torch on the GPU (largest
 * relative difference between the two measured on the H200: 4.7e-4 with TF32).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { openCache } from '@cxr-ssl/data';
import { type ResultRow, evaluateEncoder, labelEfficiency, pairRows, parseRow, randomEncoder, rowFileName } from '@cxr-ssl/eval';
import { PrepareOptions, runPrepare } from '../../packages/cli/src/commands/prepare.ts';
import { ReproduceConfig } from '../../packages/cli/src/commands/reproduce.ts';
import { type CurvePoint, runCurves, writePlots } from '../../packages/cli/src/plots.ts';
import { writeStudyReport } from '../../packages/cli/src/study-report.ts';

const { values: a } = parseArgs({ options: { study: { type: 'string' }, source: { type: 'string' }, quiet: { type: 'boolean', default: false } } });
if (!a.study || !a.source) {
  console.error('usage: finish-study.ts --study <reproduce output folder> --source <the images it was prepared from>');
  process.exit(2);
}
const dir = resolve(a.study);
// a study written before the protocol registry has the head and feature extraction under `linear:`; they are eval: settings now
const { linear, ...raw } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const { epochs, hidden, ...extraction } = linear ?? {};
const cfg = ReproduceConfig.parse(linear ? { ...raw, eval: { ...raw.eval, ...extraction, linear: { epochs, hidden } } } : raw);
const rowsDir = join(dir, 'rows');
// pixels, features and fraction draws go to a scratch folder: the study folder keeps rows and reports
const work = join(tmpdir(), 'cxr-ssl-finish-study', basename(dir));
const cacheDir = join(work, 'cache');
const data = cfg.data[0]; // the evaluated set (a pooled config's first)
await runPrepare(
  PrepareOptions.parse({ source: resolve(a.source), adapter: data.adapter, name: data.name, sizes: cfg.sizes, cacheDir, valFraction: data.valFraction, seed: cfg.seed, quiet: a.quiet }),
);
const settings = { ...cfg.eval, features: 'ort' as const };
const ctx = { outDir: work, seed: cfg.seed, log: a.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`) };
const saved = readdirSync(rowsDir).map((f) => parseRow(JSON.parse(readFileSync(join(rowsDir, f), 'utf8'))));
const rows: ResultRow[] = [];
const curves: CurvePoint[] = [];
const missing: string[] = [];
for (const size of cfg.sizes) {
  const cache = openCache(cacheDir, data.name, size);
  for (const init of cfg.inits) {
    if (init === 'random' || init === 'random-bn') {
      const enc = await randomEncoder(cfg.encoder, cfg.seed, init === 'random-bn' ? cache : undefined);
      const path = (k: Parameters<typeof rowFileName>[0]) => join(rowsDir, rowFileName(k));
      rows.push(
        ...(await evaluateEncoder(enc, cache, settings, {
          ...ctx,
          previous: (k) => (existsSync(path(k)) ? parseRow(JSON.parse(readFileSync(path(k), 'utf8'))) : undefined),
          onRow: (row, k) => writeFileAtomic(path(k), JSON.stringify(row)),
        })),
      );
      continue;
    }
    const mine = saved.filter((r) => r.label === init && r.size === size);
    if (mine.length === 0) missing.push(`${init} at ${size} px`);
    rows.push(...mine);
    curves.push(...runCurves(join(dir, 'runs', `${init}-${size}`), init, size));
  }
  cache.close();
}
const paired = pairRows(rows);
const cells = labelEfficiency(paired);
writeStudyReport(dir, paired, cfg, cells);
await writePlots(dir, paired, curves, cells);
if (missing.length) console.log(`no rows for ${missing.join(', ')}: not in the report`);
console.log(readFileSync(join(dir, 'results.md'), 'utf8'));
