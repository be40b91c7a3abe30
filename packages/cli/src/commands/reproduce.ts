import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { CacheMismatchError, openCache } from '@cxr-ssl/data';
import { type EvalEncoder, EvalSettings, bnInputs, encoderOf, evaluateEncoder, labelEfficiency, pairRows, parseRow, randomEncoder, rowFileName, runEncoder, writeEvalBoard } from '@cxr-ssl/eval';
import type { ResultRow } from '@cxr-ssl/eval';
import { ENCODERS, encoderSpec, readSafetensors } from '@cxr-ssl/models';
import { METHODS, PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { UsageError, readConfigFile, validate } from '../config-file.ts';
import { loadImagenetWeights } from '../imagenet.ts';
import { intList, pathName, quietOption } from '../options.ts';
import { PretextOptions, TrainingFields, trainingProblems } from '../pretext-options.ts';
import { type CurvePoint, runCurves, writePlots } from '../plots.ts';
import { writeStudyReport } from '../study-report.ts';
import { asUsageErrors, cliRuntime } from '../evaluation.ts';
import { PrepareFields, PrepareOptions, runPrepare } from './prepare.ts';
import { runPretextCommand } from './pretext.ts';

const encoderName = z.enum(Object.keys(ENCODERS) as [string, ...string[]]);
/** A variant is named `<method>+<label>`: its method is the part before the '+'. */
export const variantMethod = (name: string) => name.slice(0, name.indexOf('+'));

const DataBlock = PrepareFields.pick({ adapter: true, valFraction: true, allowMissing: true }).extend({ source: z.string(), name: pathName() }).strict();

/** The study's grid as a config file (see configs/*.yaml). Relative paths are relative to the file. */
export const ReproduceConfig = z
  .object({
    out: z.string().default('runs/reproduce'),
    /**
     * the data set to prepare: prepare's options (their defaults too); or a list of them, each with an
     * optional sampling `weight`: the pretext runs pool them all (pretext --data a,b), the evaluation
     * uses the first
     */
    data: z.union([DataBlock, z.array(DataBlock.extend({ weight: z.number().positive().optional() }).strict()).min(1)]).transform((d) => (Array.isArray(d) ? d : [d])),
    sizes: intList().default([128, 256]),
    /** methods, references (random, random-bn, imagenet) and names under variants:, in report order */
    inits: z.array(z.string()).min(1),
    /**
     * a method with other options, trained and evaluated as an init of its own: `<method>+<label>`
     * -> options laid over pretext.options.<method> (e.g. 'jigsaw+std': { augment: [{ name: standardize }] });
     * the report compares it with the method's default task (ΔD)
     */
    variants: z.record(z.string().regex(/^[a-z0-9-]+\+[A-Za-z0-9-]+$/, 'a variant is named <method>+<label> (letters, digits, -)'), z.record(z.string(), z.unknown())).default({}),
    /** the encoder the pretext tasks train (and the random baseline uses) */
    encoder: encoderName.default(PRETEXT_DEFAULTS.encoder),
    imagenet: z
      .object({
        encoder: encoderName,
        /** canonical safetensors, or a TensorFlow.js layers folder (model.json + shards) */
        weights: z.string(),
      })
      .strict()
      .optional(),
    /** where pretext training starts: the study starts from ImageNet weights */
    pretextInit: z.enum(['random', 'imagenet']).default('random'),
    /** how each pretext run trains: pretext's own options (one schema, one default each) and per method its options */
    pretext: TrainingFields.extend({
      /** per method: its options (e.g. jigsaw: {permutations: 100}; simclr: {temperature: 0.2}) */
      options: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    })
      .strict()
      .superRefine(trainingProblems)
      .prefault({}),
    /** protocols, label fractions, seeds, feature extraction and each protocol's options (eval's EvalSettings) */
    eval: EvalSettings.prefault({}),
    /** before version 2 the head's settings and feature extraction were here; now under eval: */
    linear: z
      .never({ error: 'linear: moved into eval: (the head: eval.linear.epochs, eval.linear.hidden; feature extraction: eval.features, eval.provider, eval.batchSize), as in configs/kermany-cpu.yaml' })
      .optional(),
    seed: z.number().int().nonnegative().default(0),
    workers: z.number().int().nonnegative().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const known = ['random', 'random-bn', 'imagenet', ...Object.keys(METHODS), ...Object.keys(c.variants)];
    c.inits.forEach((init, i) => {
      if (!known.includes(init)) ctx.addIssue({ code: 'custom', path: ['inits', i], message: `unknown init '${init}': one of ${known.join(', ')} (a variant needs an entry under variants:)` });
    });
    for (const name of Object.keys(c.variants)) {
      if (!(variantMethod(name) in METHODS)) ctx.addIssue({ code: 'custom', path: ['variants', name], message: `'${name}' names no method before its '+': one of ${Object.keys(METHODS).join(', ')}` });
    }
    const needsImagenet = c.inits.includes('imagenet') || c.pretextInit === 'imagenet';
    if (needsImagenet && !c.imagenet) ctx.addIssue({ code: 'custom', path: ['imagenet'], message: "the 'imagenet' init needs imagenet: { encoder, weights }" });
    if (c.pretextInit === 'imagenet' && c.imagenet && c.imagenet.encoder !== c.encoder) {
      ctx.addIssue({ code: 'custom', path: ['pretextInit'], message: `pretext tasks train ${c.encoder} but the ImageNet weights are for ${c.imagenet.encoder}` });
    }
    if (c.inits.includes('random-bn') && c.encoder in ENCODERS && bnInputs(encoderSpec(c.encoder)).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['inits'], message: `'random-bn' recalibrates BatchNorm statistics, and ${c.encoder} has none: drop it, or use an encoder with BatchNorm` });
    }
  });
export type ReproduceConfig = z.infer<typeof ReproduceConfig>;

const ReproduceFlags = z
  .object({
    config: z.string({ error: 'reproduce needs --config <file> (see configs/kermany-cpu.yaml, configs/nih-paper.yaml)' }),
    python: z.string().optional().meta(arg('<path>', 'python interpreter for the torch engine (overrides pretext.python of the config)')),
    quiet: quietOption(),
  })
  .strict();

/**
 * The study's table in one command: prepare every size, train every pretext task at every size,
 * evaluate every init, write results.md / results.json / plots. Finished cells are skipped, an
 * interrupted pretext run resumes from its checkpoint.
 */
export async function runReproduce(configPath: string, quiet: boolean, python?: string): Promise<string> {
  const base = dirname(resolve(configPath));
  const cfg = validate(ReproduceConfig, readConfigFile(configPath), configPath);
  if (python) cfg.pretext.python = python;
  const at = (p: string) => resolve(base, p);
  const out = at(cfg.out);
  const cacheDir = join(out, 'cache');
  const rowsDir = join(out, 'rows');
  mkdirSync(rowsDir, { recursive: true });
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(cfg, null, 2));

  for (const data of cfg.data) await prepareSet(data, cfg, cacheDir, at, quiet);
  const imagenet = cfg.imagenet ? loadImagenetWeights(cfg.imagenet.encoder, at(cfg.imagenet.weights), join(out, 'imagenet')) : undefined;
  const tasks = cfg.inits.filter((i) => i in METHODS || i in cfg.variants);
  const taskOf = (init: string) => (init in cfg.variants ? variantMethod(init) : init);
  const rows: ResultRow[] = [];
  const curves: CurvePoint[] = [];

  const { options, ...training } = cfg.pretext;
  const ctx = { outDir: out, seed: cfg.seed, python: cfg.pretext.python, ...cliRuntime(quiet) };
  const rowPath = (k: Parameters<typeof rowFileName>[0]) => join(rowsDir, rowFileName(k));
  // a row file of an older version, or unreadable, is computed again
  const savedRow = (path: string) => {
    try {
      return parseRow(JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      return undefined;
    }
  };

  for (const size of cfg.sizes) {
    const cache = openCache(cacheDir, cfg.data[0].name, size); // the evaluation's: the first set
    for (const init of cfg.inits) {
      let enc: EvalEncoder;
      if (tasks.includes(init)) {
        const runDir = join(out, 'runs', `${init}-${size}`);
        // always through runPretext: a finished run resumes at its end (cheap), an interrupted one
        // continues, and one trained with other settings is refused instead of silently reused
        await runPretextCommand(
          PretextOptions.parse({
            ...training,
            task: taskOf(init),
            encoder: cfg.encoder,
            data: cfg.data.map(({ name, ...d }) => ({ name, weight: 'weight' in d ? d.weight : undefined })), // several: pooled
            size,
            cacheDir,
            runsDir: join(out, 'runs'),
            run: `${init}-${size}`,
            taskOptions: { ...options[taskOf(init)], ...cfg.variants[init] },
            seed: cfg.seed,
            init: cfg.pretextInit === 'imagenet' ? imagenet!.safetensors : 'random',
            resume: existsSync(join(runDir, 'config.json')),
            quiet,
          }),
        );
        curves.push(...runCurves(runDir, init, size));
        // labelled by its init, one per size; a variant is compared with its method's run (ΔD)
        enc = runEncoder(runDir, { label: init, base: init in cfg.variants ? taskOf(init) : undefined });
      } else if (init === 'imagenet') {
        const spec = encoderSpec(cfg.imagenet!.encoder);
        enc = encoderOf({ label: init, method: init, spec, weights: readSafetensors(imagenet!.safetensors).weights, onnx: imagenet!.onnx, source: `${cfg.imagenet!.encoder} ImageNet weights` });
      } else {
        enc = await asUsageErrors(() => randomEncoder(cfg.encoder, cfg.seed, init === 'random-bn' ? cache : undefined));
      }
      rows.push(
        ...(await asUsageErrors(() =>
          evaluateEncoder(enc, cache, cfg.eval, {
            ...ctx,
            // a finished row is reused only when it was made of the same weights with the same protocol options (checked by evaluateEncoder)
            previous: (k) => (existsSync(rowPath(k)) ? savedRow(rowPath(k)) : undefined),
            onRow: (row, k) => writeFileAtomic(rowPath(k), JSON.stringify(row)),
          }),
        )),
      );
    }
  }
  const paired = pairRows(rows);
  const cells = labelEfficiency(paired); // bootstrapped: computed once for the report and the plots
  writeStudyReport(out, paired, cfg, cells);
  await writePlots(out, paired, curves, cells);
  writeEvalBoard(out, paired);
  return out;
}

/** Prepares one data set of a reproduce config at its sizes (reproduce has no --force: a mismatch says how to rebuild it). */
async function prepareSet(data: ReproduceConfig['data'][number], cfg: ReproduceConfig, cacheDir: string, at: (p: string) => string, quiet: boolean): Promise<void> {
  const prepare = { source: at(data.source), adapter: data.adapter, name: data.name, sizes: cfg.sizes, cacheDir, valFraction: data.valFraction, seed: cfg.seed, allowMissing: data.allowMissing };
  await runPrepare(PrepareOptions.parse({ ...prepare, quiet, workers: cfg.workers })).catch((e) => {
    if (!(e instanceof CacheMismatchError)) throw e;
    // reproduce has no --force of its own: give the exact command that rebuilds this config's cache
    const q = (s: string) => (/^[\w./,-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`); // shell-quoted where needed
    const flags = `--source ${q(prepare.source)} --adapter ${prepare.adapter} --name ${prepare.name} --sizes ${prepare.sizes.join(',')} --cache-dir ${q(cacheDir)} --val-fraction ${prepare.valFraction} --seed ${prepare.seed}${prepare.allowMissing ? ' --allow-missing' : ''}`;
    throw new UsageError(
      `${e.message.replace(/: pass overwrite.*$/, '')}. If only the files' times changed (a copy), rebuild it with\n  npx cxr-ssl prepare ${flags} --force\n` +
        `and rerun reproduce. If the images themselves changed, also remove ${join(dirname(cacheDir), 'runs')} and ${join(dirname(cacheDir), 'rows')}: they were made from the old ones`,
    );
  });
}

export const reproduce = defineCommand({
  name: 'reproduce',
  summary: "Run the study's grid (inits x sizes) from a config: pretext, linear evaluation, results.md, plots",
  schema: ReproduceFlags,
  ownsConfig: true,
  async run(o) {
    if (!o.config) throw new UsageError('reproduce needs --config <file> (see configs/kermany-cpu.yaml, configs/nih-paper.yaml)');
    const out = await runReproduce(o.config, o.quiet, o.python);
    console.log(readFileSync(join(out, 'results.md'), 'utf8'));
  },
});
