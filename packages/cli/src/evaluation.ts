import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetCache } from '@cxr-ssl/data';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { openPrepared } from './dataset.ts';
import {
  FinetuneOptions,
  type FractionDraw,
  type FractionsFile,
  KnnOptions,
  LinearOptions,
  type PretextInfo,
  type ResultRow,
  type Features,
  cachedFeatures,
  chooseExtractor,
  drawFractions,
  extractFeatures,
  extractFeaturesTorch,
  finetuneEvaluation,
  finetuneStepsPerEpoch,
  knnEvaluation,
  linearEvaluation,
  bnInputs,
  openEncoderSession,
  recalibrateBn,
} from '@cxr-ssl/eval';
import { type EncoderSpec, type Weights, encoderSpec, initWeights, readSafetensors } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { Schedule, createEngine, describeSchedule } from '@cxr-ssl/train';
import { z } from 'zod';
import { UsageError } from './config-file.ts';
import { loadImagenetWeights } from './imagenet.ts';
import { DEFAULT_ENCODER } from './options.ts';
import { progress } from './progress.ts';

export const PROTOCOLS = ['linear', 'knn', 'finetune'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** What to evaluate and how: shared by `eval`, `linear` and the `eval:` section of reproduce configs. */
export const EvalSettings = z
  .object({
    protocols: z.array(z.enum(PROTOCOLS)).min(1).default(['linear']),
    /** label fractions of the train split, nested per seed; 1 = all labels */
    fractions: z.array(z.number().gt(0).max(1)).min(1).default([1]),
    /** seeds per cell: head seeds (linear, finetune) and fraction draws */
    seeds: z.number().int().positive().default(1),
    linear: z.object({ epochs: z.number().int().positive().default(10), hidden: z.number().int().positive().default(256) }).strict().default({ epochs: 10, hidden: 256 }),
    knn: z.object({ k: z.number().int().positive().default(20), temperature: z.number().positive().default(0.07) }).strict().default({ k: 20, temperature: 0.07 }),
    finetune: z
      .object({
        epochs: z.number().int().positive().default(10),
        lr: z.number().positive().default(0.01),
        momentum: z.number().min(0).max(1).default(0.9),
        decay: z.number().positive().max(1).default(0.9),
        batchSize: z.number().int().positive().default(32),
        hidden: z.number().int().positive().default(256),
        engine: z.enum(['auto', 'torch', 'tfjs']).default('auto'),
        python: z.string().optional(),
      })
      .strict()
      .default({ epochs: 10, lr: 0.01, momentum: 0.9, decay: 0.9, batchSize: 32, hidden: 256, engine: 'auto' }),
  })
  .strict();
export type EvalSettings = z.infer<typeof EvalSettings>;

export interface ResolvedEncoder {
  init: string;
  onnx: Uint8Array;
  /** human-readable origin (a run folder, "ImageNet weights", ...) */
  source: string;
  spec: EncoderSpec;
  /** encoder weights, for fine-tuning (read on demand) */
  weights: () => Weights;
  pretext?: PretextInfo;
}

/** Pretext accuracy on held-out images and the optimiser settings of a pretext run folder. */
export function pretextInfo(dir: string): PretextInfo {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    task?: string;
    cache?: { name?: string; size?: number };
    optimizer?: Record<string, unknown>;
    schedule?: unknown;
  };
  let valAccuracy: number | undefined;
  const metrics = join(dir, 'metrics.jsonl');
  if (existsSync(metrics)) {
    for (const line of readFileSync(metrics, 'utf8').split('\n')) {
      if (!line.includes('"kind":"epoch"')) continue;
      const m = JSON.parse(line) as { valAccuracy?: number };
      if (typeof m.valAccuracy === 'number') valAccuracy = m.valAccuracy;
    }
  }
  // the lr schedule is part of how the encoder was optimised: shown beside lr and momentum
  const schedule = Schedule.safeParse(cfg.schedule);
  // the optimiser by name first; LARS's trust coefficient only where it applies
  const { name = 'sgd', trustCoefficient, ...settings } = (cfg.optimizer ?? {}) as Record<string, unknown>;
  const optimizer = cfg.optimizer
    ? { optimizer: name, ...settings, ...(name === 'lars' ? { trustCoefficient } : {}), ...(schedule.success ? { schedule: describeSchedule(schedule.data) } : {}) }
    : undefined;
  return { run: dir, task: cfg.task ?? 'unknown', data: cfg.cache?.name ?? 'unknown', size: cfg.cache?.size, valAccuracy, optimizer };
}

export interface EncoderRefOptions {
  runsDir: string;
  /** architecture of 'random' */
  arch: string;
  seed: number;
  imagenet?: { encoder: string; weights: string; outDir: string };
}

/** BatchNorm statistics settle long before this many images; it keeps an NIH-sized train split to minutes. */
const RECALIBRATION_IMAGES = 8192;

/**
 * Random init of `arch` at `seed` ('random'); with `cache`, its BatchNorm statistics recalibrated on
 * the cache's train images, at most RECALIBRATION_IMAGES of them evenly spaced ('random-bn', see
 * recalibrateBn). The same weights as 'random' otherwise.
 */
export async function randomEncoder(arch: string, seed: number, cache?: DatasetCache): Promise<ResolvedEncoder> {
  const spec = encoderSpec(arch);
  let weights = initWeights(spec, undefined, seed);
  if (!cache) return { init: 'random', onnx: encoderOnnx(spec, weights), source: `${arch}, random init, seed ${seed}`, spec, weights: () => weights };
  if (bnInputs(spec).length === 0) throw new UsageError(`'random-bn' recalibrates BatchNorm statistics, and ${arch} has no BatchNorm layers: use 'random', or an encoder with BatchNorm (e.g. vgg-small-bn)`);
  const all = cache.indices('train');
  const step = Math.max(1, all.length / RECALIBRATION_IMAGES);
  const train = Array.from({ length: Math.min(all.length, RECALIBRATION_IMAGES) }, (_, i) => all[Math.floor(i * step)]);
  weights = await recalibrateBn(spec, weights, cache, train);
  const source = `${arch}, random init, seed ${seed}, BatchNorm statistics of ${train.length} of the ${all.length} train images`;
  return { init: 'random-bn', onnx: encoderOnnx(spec, weights), source, spec, weights: () => weights };
}

const isBaseline = (ref: string) => ref === 'random' || ref === 'random-bn';
/** The finished pretext run a name on the command line means (a path, or a name under runsDir), or a UsageError saying why it is none. */
function runFolder(ref: string, runsDir: string): string {
  const dir = existsSync(ref) ? resolve(ref) : resolve(runsDir, ref);
  const onnxPath = join(dir, 'encoder.onnx');
  if (!existsSync(onnxPath)) {
    throw new UsageError(`encoder '${ref}': ${onnxPath} not found. Train it first (cxr-ssl pretext ... --run ${ref}) or name a finished run folder.`);
  }
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UsageError(`encoder '${ref}': ${dir} has encoder.onnx but no config.json, so it is not a pretext run folder (cxr-ssl pretext writes both); name a run folder, or 'random'`);
  }
  return dir;
}
/** The encoder architecture a run folder trained (older configs without one are vgg-small). */
function runEncoder(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { encoder?: string }).encoder ?? 'vgg-small';
}

/**
 * The architecture of the random baselines: that of the runs they are compared with (a ΔAUC
 * between two architectures measures the architecture too). Checks every named run on the way. `arch` (--arch) is the default when
 * no run is named, and is refused where it disagrees with the runs; runs of several encoders are
 * refused, one baseline row having one architecture.
 */
export function baselineArch(refs: string[], o: { runsDir: string; arch?: string }): string {
  const baselines = refs.filter(isBaseline);
  const runs = refs
    .filter((r) => !isBaseline(r) && r !== 'imagenet')
    .map((ref) => ({ ref, arch: runEncoder(runFolder(ref, o.runsDir)) }));
  const archs = [...new Set(runs.map((r) => r.arch))];
  const listed = () => runs.map((r) => `${r.ref}: ${r.arch}`).join(', ');
  if (baselines.length > 0 && o.arch && archs.some((a) => a !== o.arch)) {
    throw new UsageError(`--arch ${o.arch}: ${baselines.join(' and ')} would be a ${o.arch} beside runs of another encoder (${listed()}), and a baseline has the architecture of the runs it is compared with: drop --arch (it follows the runs), or evaluate runs of ${o.arch}`);
  }
  if (baselines.length > 0 && archs.length > 1) {
    const first = runs.filter((r) => r.arch === archs[0]).map((r) => r.ref);
    throw new UsageError(`the runs have different encoders (${listed()}), and a ${baselines.join(' or ')} baseline has one architecture: evaluate each encoder's runs with their own baseline, in a call of their own (e.g. --encoders ${[...first, ...baselines].join(',')}, whose baseline is a ${archs[0]}; --arch names it explicitly)`);
  }
  return o.arch ?? archs[0] ?? DEFAULT_ENCODER;
}

/** 'random', 'random-bn' (recalibrated on `cache`), 'imagenet', or a pretext run folder (a path, or a name under runsDir). */
export async function resolveEncoder(ref: string, o: EncoderRefOptions, cache: DatasetCache): Promise<ResolvedEncoder> {
  if (isBaseline(ref)) return randomEncoder(o.arch, o.seed, ref === 'random-bn' ? cache : undefined);
  if (ref === 'imagenet') {
    if (!o.imagenet) throw new UsageError("encoder 'imagenet' needs --imagenet-weights <file or tfjs folder> (and --imagenet-encoder, default mobilenetv2-0.35)");
    const { safetensors, onnx } = loadImagenetWeights(o.imagenet.encoder, o.imagenet.weights, o.imagenet.outDir);
    return { init: 'imagenet', onnx, source: `${o.imagenet.encoder} ImageNet weights`, spec: encoderSpec(o.imagenet.encoder), weights: () => readSafetensors(safetensors).weights };
  }
  const dir = runFolder(ref, o.runsDir);
  const configPath = join(dir, 'config.json');
  const onnxPath = join(dir, 'encoder.onnx');
  const spec = encoderSpec(runEncoder(dir));
  return {
    init: (JSON.parse(readFileSync(configPath, 'utf8')) as { task?: string }).task ?? ref,
    onnx: new Uint8Array(readFileSync(onnxPath)),
    source: dir,
    spec,
    weights: () => readSafetensors(join(dir, 'encoder.safetensors')).weights,
    pretext: pretextInfo(dir),
  };
}

/** The options a row of `protocol` records (and must match for reuse). */
export function protocolOptions(protocol: Protocol, s: EvalSettings): Record<string, unknown> {
  if (protocol === 'linear') {
    const { seed: _, ...o } = LinearOptions.parse({ epochs: s.linear.epochs, hidden: s.linear.hidden });
    return o;
  }
  if (protocol === 'knn') return KnnOptions.parse({ k: s.knn.k, temperature: s.knn.temperature });
  const { engine: _e, python: _p, ...ft } = s.finetune;
  const { seed: _, ...o } = FinetuneOptions.parse(ft);
  return o;
}

/** Equal as JSON values, whatever the key order (a row stores its options in the order its protocol wrote them). */
const canonical = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

export interface EvaluateContext {
  /** folder whose features/ keeps extracted features (shared by protocols) and fractions/ the draws */
  outDir: string;
  /** base seed: seed s of `seeds` is base + s */
  seed: number;
  provider: 'auto' | 'cpu' | 'cuda';
  /** feature extractor: onnxruntime, torch, or auto (torch when its Python sees CUDA) */
  features?: 'auto' | 'ort' | 'torch';
  /** the torch Python (features and fine-tuning); default: the usual search */
  python?: string;
  batchSize: number;
  quiet: boolean;
  /** a previous row with this key, if any: reused when its options match */
  previous?: (key: RowId) => ResultRow | undefined;
  /** called with every newly computed row (reproduce writes it at once) */
  onRow?: (row: ResultRow, key: RowId) => void;
}

export interface RowId {
  init: string;
  size: number;
  protocol: Protocol;
  fraction: number;
  seed: number;
}

export const rowFileName = (k: RowId) => `${k.init}-${k.size}-${k.protocol}-${k.fraction}-s${k.seed}.json`;

const said = new Set<string>();
function sayOnce(note: string | undefined, quiet: boolean): void {
  if (!note || quiet || said.has(note)) return;
  said.add(note);
  process.stderr.write(`${note}\n`);
}

/** Nested label-fraction draws of the train split for one seed, saved to <outDir>/fractions/. */
function fractionDraws(cache: DatasetCache, fractions: number[], seed: number, outDir: string): Map<number, FractionDraw> {
  const train = cache.indices('train');
  const entries = cache.manifest.entries;
  const images = train.map((row) => ({ row, id: entries[row].id, label: entries[row].label, patient: entries[row].patient }));
  const draws = drawFractions(images, fractions, seed);
  const file: FractionsFile = { version: 1, seed, source: `${cache.manifest.name}-${cache.size} train`, draws: draws.map(({ rows: _, ...d }) => d) };
  mkdirSync(join(outDir, 'fractions'), { recursive: true });
  writeFileAtomic(join(outDir, 'fractions', `${cache.manifest.name}-${cache.size}-seed${seed}.json`), `${JSON.stringify(file, null, 1)}\n`);
  return new Map(draws.map((d) => [d.fraction, d]));
}

/**
 * Every (protocol, fraction, seed) row of one encoder on one prepared data set and size. The
 * frozen features of each split are extracted once (and cached) for all frozen protocols; label
 * fractions select rows of them.
 */
export async function evaluateEncoder(enc: ResolvedEncoder, cache: DatasetCache, s: EvalSettings, ctx: EvaluateContext): Promise<ResultRow[]> {
  const data = cache.manifest.name;
  const size = cache.size;
  const splits = { train: cache.indices('train'), val: cache.indices('val'), test: cache.indices('test') };
  if (splits.test.length === 0) throw new UsageError(`${data} at ${size} px has no test split: prepare a data set with one`);
  if (splits.train.length === 0) throw new UsageError(`${data} at ${size} px has no train split: prepare a data set with one`);
  const labelOf = (i: number) => cache.manifest.entries[i].label;
  const seeds = Array.from({ length: s.seeds }, (_, i) => ctx.seed + i);
  const draws = new Map(seeds.map((seed) => [seed, s.fractions.some((f) => f < 1) ? fractionDraws(cache, s.fractions, seed, ctx.outDir) : undefined]));
  const trainRowsOf = (fraction: number, seed: number) => (fraction === 1 ? splits.train : draws.get(seed)!.get(fraction)!.rows);

  const rows: ResultRow[] = [];
  const todo: RowId[] = [];
  for (const protocol of s.protocols) {
    for (const fraction of s.fractions) {
      for (const seed of seeds) {
        const key = { init: enc.init, size, protocol, fraction, seed };
        const prev = ctx.previous?.(key);
        // a row of another architecture under the same init (a changed encoder) is not reused
        const sameEncoder = (prev?.encoder ?? enc.spec.name) === enc.spec.name;
        if (prev && sameEncoder && sameJson(prev.options, protocolOptions(protocol, s)) && prev.data === data && prev.scores) rows.push(prev);
        else todo.push(key);
      }
    }
  }
  if (todo.length === 0) return rows;

  let features: Record<'train' | 'val' | 'test', Float32Array> | undefined;
  let dim = 0;
  if (todo.some((k) => k.protocol !== 'finetune')) {
    const how = chooseExtractor(ctx.features ?? 'auto', ctx.provider, ctx.python);
    const opened = how.extractor === 'ort' ? await openEncoderSession(enc.onnx, { provider: ctx.provider }) : undefined;
    sayOnce(opened?.note, ctx.quiet);
    sayOnce(`features: ${how.extractor === 'ort' ? `onnxruntime ${opened!.provider}` : 'torch'} (${how.reason})`, ctx.quiet);
    const total = splits.train.length + splits.val.length + splits.test.length;
    const bar = progress(`features ${enc.init}`, total, ctx.quiet);
    let base = 0;
    const f: Partial<Record<'train' | 'val' | 'test', Float32Array>> = {};
    const weights = how.extractor === 'torch' ? enc.weights() : undefined;
    // torch: the splits that are not cached come from one Python process (each start imports torch
    // and initialises CUDA: seconds per split, most of an H200's extraction time at these sizes)
    const order = ['train', 'val', 'test'] as const;
    const start = { train: 0, val: splits.train.length, test: splits.train.length + splits.val.length };
    let together: Promise<Features> | undefined;
    const fromTogether = async (split: (typeof order)[number]): Promise<Features> => {
      together ??= extractFeaturesTorch({
        encoder: enc.spec,
        weights: weights!,
        images: cache,
        cacheFile: cache.files.u8,
        indices: order.flatMap((s) => splits[s]),
        batchSize: ctx.batchSize,
        python: how.python,
        onProgress: (d) => bar.update(d),
      });
      const all = await together;
      const rows = splits[split].length;
      return { dim: all.dim, features: all.features.slice(start[split] * all.dim, (start[split] + rows) * all.dim) };
    };
    for (const split of order) {
      const idx = splits[split];
      const onProgress = (d: number) => bar.update(base + d);
      const r = await cachedFeatures({
        runDir: ctx.outDir,
        key: `${enc.init}-${size}-${split}`,
        onnx: enc.onnx,
        indices: idx,
        dataHash: cache.manifest.planHash,
        extractor: how.extractor === 'ort' ? `onnxruntime ${opened!.provider}` : 'torch',
        compute: () =>
          opened
            ? extractFeatures({ session: opened.session, images: cache, indices: idx, batchSize: ctx.batchSize, onProgress })
            : fromTogether(split),
      });
      f[split] = r.features;
      dim = r.dim;
      base += idx.length;
    }
    bar.stop();
    await opened?.session.release?.();
    features = f as Record<'train' | 'val' | 'test', Float32Array>;
  }
  const position = new Map(splits.train.map((row, p) => [row, p]));
  const trainFeatures = (rowsWanted: number[]) => {
    if (rowsWanted === splits.train) return features!.train;
    const out = new Float32Array(rowsWanted.length * dim);
    rowsWanted.forEach((row, i) => {
      const p = position.get(row)!;
      out.set(features!.train.subarray(p * dim, (p + 1) * dim), i * dim);
    });
    return out;
  };
  const labels = (idx: number[]) => Int32Array.from(idx, labelOf);
  const test = { features: features?.test ?? new Float32Array(), labels: labels(splits.test) };

  for (const key of todo) {
    const trainRows = trainRowsOf(key.fraction, key.seed);
    const common = { fraction: key.fraction, data, encoder: enc.spec.name, ...(enc.pretext ? { pretext: enc.pretext } : {}) };
    let row: ResultRow;
    if (key.protocol === 'linear') {
      row = linearEvaluation({
        init: enc.init,
        size,
        dim,
        features: {
          train: { features: trainFeatures(trainRows), labels: labels(trainRows) },
          val: splits.val.length > 0 ? { features: features!.val, labels: labels(splits.val) } : undefined,
          test,
        },
        options: { epochs: s.linear.epochs, hidden: s.linear.hidden, seed: key.seed },
      });
    } else if (key.protocol === 'knn') {
      row = knnEvaluation({ init: enc.init, size, dim, features: { train: { features: trainFeatures(trainRows), labels: labels(trainRows) }, test }, options: { k: s.knn.k, temperature: s.knn.temperature }, seed: key.seed });
    } else {
      const { engine: engineName, python, ...ft } = s.finetune;
      const { engine, reason } = await createEngine(engineName, { torch: { python } }, { method: 'fine-tuning' });
      if (!ctx.quiet) process.stderr.write(`fine-tuning ${enc.init} on ${trainRows.length} images (${Math.round(100 * key.fraction)}%, seed ${key.seed}): engine ${engine.name} (${reason})\n`);
      const steps = FinetuneOptions.parse({ ...ft, seed: key.seed });
      const bar = progress(`finetune ${enc.init}`, steps.epochs * finetuneStepsPerEpoch(trainRows.length, steps.batchSize), ctx.quiet);
      try {
        const { weights: _, ...r } = await finetuneEvaluation({
          onStep: ({ done, epoch, loss, accuracy }) => bar.update(done, { epoch, loss: loss.toFixed(4), acc: accuracy.toFixed(3) }),
          engine,
          encoder: enc.spec,
          weights: enc.weights(),
          images: cache,
          train: { rows: trainRows, labels: labels(trainRows) },
          val: splits.val.length > 0 ? { rows: splits.val, labels: labels(splits.val) } : undefined,
          test: { rows: splits.test, labels: test.labels },
          init: enc.init,
          options: { ...ft, seed: key.seed },
          provider: ctx.provider,
        });
        row = r;
      } finally {
        bar.stop();
        await engine.close();
      }
    }
    row = { ...row, ...common };
    if (!ctx.quiet) {
      process.stderr.write(
        `${enc.init} ${key.protocol} ${Math.round(100 * key.fraction)}% seed ${key.seed} (${enc.source}): accuracy ${(100 * row.accuracy).toFixed(1)}%, AUC ${row.auc.toFixed(3)}, n_train ${row.n_train}\n`,
      );
    }
    ctx.onRow?.(row, key);
    rows.push(row);
  }
  return rows;
}

/** Opens the prepared data set (the bundled fixture is prepared on first use) or says how to make it. */
export async function openEvalCache(cacheDir: string, data: string, size: number, quiet = false): Promise<DatasetCache> {
  try {
    return await openPrepared({ cacheDir, data, size, quiet });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}
