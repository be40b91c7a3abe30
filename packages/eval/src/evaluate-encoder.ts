import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import type { DatasetCache } from '@cxr-ssl/data';
import { ResultRow } from './evaluate.ts';
import { type FeatureHealth, featureHealth, featureWarning } from './feature-health.ts';
import { type FractionDraw, type FractionsFile, drawFractions } from './fractions.ts';
import { type SplitRows, frozenFeatures } from './frozen-features.ts';
import { type EvalEncoder, EvalInputError } from './identity.ts';
import { PROTOCOLS, type Progress, type Protocol, type ProtocolName, type Runtime } from './protocols/index.ts';
import { scoreTarget } from './score-outputs.ts';
import { type EvalSettings, recordedOptions } from './settings.ts';
import { type TargetLabels, type TargetName, targetLabels } from './targets.ts';

export interface EvaluateContext {
  /** folder whose features/ keeps extracted features (shared by protocols) and fractions/ the draws */
  outDir: string;
  /** base seed: seed s of `seeds` is base + s */
  seed: number;
  /** the torch Python (features and fine-tuning); default: the usual search */
  python?: string;
  /** lines for the user (default: none) */
  log?: (line: string) => void;
  /** progress bars (default: none) */
  progress?: Progress;
  /** a previous row with this key, if any: reused when it is of the same weights, data and options */
  previous?: (key: RowId) => ResultRow | undefined;
  /** called with every newly computed row (reproduce writes it at once) */
  onRow?: (row: ResultRow, key: RowId) => void;
}

/** A row's place: its encoder (by label; the weights are checked on reuse) and its cell. */
export interface RowId {
  label: string;
  size: number;
  protocol: ProtocolName;
  fraction: number;
  seed: number;
  /** absent: abnormal, the study's */
  target?: TargetName;
}

export const rowFileName = (k: RowId) => `${k.label}-${k.size}-${k.protocol}-${k.fraction}-s${k.seed}${k.target && k.target !== 'abnormal' ? `-${k.target}` : ''}.json`;

/** Equal as JSON values, whatever the key order (a row stores its options in the order its protocol wrote them). */
const canonical = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/**
 * Nested label-fraction draws of the train split for one seed, stratified by the target's labels
 * (a patient's majority class; for findings, its rarest finding, so rare findings keep positives),
 * saved to <outDir>/fractions/.
 */
function fractionDraws(cache: DatasetCache, t: TargetLabels, fractions: number[], seed: number, outDir: string): Map<number, FractionDraw> {
  const entries = cache.manifest.entries;
  const images = cache.indices('train').map((row) => ({ row, id: entries[row].id, labels: t.strata(row), patient: entries[row].patient }));
  const draws = drawFractions(images, fractions, seed, t.target.head.kind === 'sigmoid' ? 'rarest' : 'majority');
  const file: FractionsFile = { version: 2, seed, source: `${cache.manifest.name}-${cache.size} train`, target: t.target.name, draws: draws.map(({ rows: _, ...d }) => d) };
  const suffix = t.target.name === 'abnormal' ? '' : `-${t.target.name}`;
  mkdirSync(join(outDir, 'fractions'), { recursive: true });
  writeFileAtomic(join(outDir, 'fractions', `${cache.manifest.name}-${cache.size}-seed${seed}${suffix}.json`), `${JSON.stringify(file, null, 1)}\n`);
  return new Map(draws.map((d) => [d.fraction, d]));
}

const noProgress: Progress = () => ({ update() {}, stop() {} });

/**
 * Every (protocol, fraction, seed) row of one encoder on one prepared data set and size. The frozen
 * features of each split are extracted once (and cached by the encoder's weights) for all frozen
 * protocols; label fractions select rows of them.
 */
export async function evaluateEncoder(enc: EvalEncoder, cache: DatasetCache, s: EvalSettings, ctx: EvaluateContext): Promise<ResultRow[]> {
  const data = cache.manifest.name;
  const size = cache.size;
  const splits: SplitRows = { train: cache.indices('train'), val: cache.indices('val'), test: cache.indices('test') };
  for (const split of ['train', 'test'] as const) {
    if (splits[split].length === 0) throw new EvalInputError(`${data} at ${size} px has no ${split} split: prepare a data set with one`);
  }
  const labels = targetLabels(s.target, cache.manifest, `${data} at ${size} px`);
  const { target } = labels;
  const seeds = Array.from({ length: s.seeds }, (_, i) => ctx.seed + i);
  const draws = new Map(seeds.map((seed) => [seed, s.fractions.some((f) => f < 1) ? fractionDraws(cache, labels, s.fractions, seed, ctx.outDir) : undefined]));
  const trainRowsOf = (fraction: number, seed: number) => (fraction === 1 ? splits.train : draws.get(seed)!.get(fraction)!.rows);

  const rows: ResultRow[] = [];
  const todo: RowId[] = [];
  for (const protocol of s.protocols) {
    for (const fraction of s.fractions) {
      for (const seed of seeds) {
        const key: RowId = { label: enc.label, size, protocol, fraction, seed, ...(target.name === 'abnormal' ? {} : { target: target.name }) };
        const prev = ctx.previous?.(key);
        const same =
          prev && prev.weights_sha256 === enc.weightsHash && prev.data === data && (prev.target ?? 'abnormal') === target.name && prev.outputs && sameJson(prev.options, recordedOptions(protocol, s)) && prev.scores;
        if (same) rows.push(prev);
        else todo.push(key);
      }
    }
  }
  const log = ctx.log ?? (() => {});
  const runtime: Runtime = { provider: s.provider, python: ctx.python, log, progress: ctx.progress ?? noProgress };
  let frozen: ReturnType<typeof frozenFeatures> | undefined; // extracted at the first protocol that asks
  let health: FeatureHealth | undefined; // of the train split's features, once they are extracted
  const position = new Map(splits.train.map((row, p) => [row, p]));
  const labelled = (idx: number[]) => ({ rows: idx, labels: labels.labels(idx) });
  const test = labelled(splits.test);
  const val = splits.val.length > 0 ? labelled(splits.val) : undefined;
  const truth = { test: labels.truth(splits.test), val: val ? labels.truth(splits.val) : undefined };

  for (const key of todo) {
    const train = labelled(trainRowsOf(key.fraction, key.seed));
    let usedFeatures = false;
    const features = async () => {
      frozen ??= frozenFeatures(enc, cache, splits, s, { ...runtime, outDir: ctx.outDir });
      const f = await frozen;
      usedFeatures = true;
      if (!health) {
        health = featureHealth(f.train, f.dim);
        const warning = featureWarning(enc.label, health);
        if (warning) log(warning);
      }
      const trainFeatures = new Float32Array(train.rows.length * f.dim);
      train.rows.forEach((row, i) => {
        const p = position.get(row)!;
        trainFeatures.set(f.train.subarray(p * f.dim, (p + 1) * f.dim), i * f.dim);
      });
      return { dim: f.dim, train: { features: trainFeatures, labels: train.labels }, ...(val ? { val: { features: f.val, labels: val.labels } } : {}), test: { features: f.test, labels: test.labels } };
    };
    const protocol = PROTOCOLS[key.protocol] as unknown as Protocol;
    const out = await protocol.run({ options: s[key.protocol], seed: key.seed, target, encoder: enc, images: cache, train, val, test, features, runtime });
    const row = ResultRow.parse({
      label: enc.label,
      method: enc.method,
      weights_sha256: enc.weightsHash,
      ...(enc.base ? { base: enc.base } : {}),
      encoder: enc.spec.name,
      size,
      protocol: key.protocol,
      fraction: key.fraction,
      seed: key.seed,
      ...scoreTarget(target, { truth: truth.test, probs: out.probs }, val && out.valProbs ? { truth: truth.val!, probs: out.valProbs } : undefined, { n: 1000, seed: key.seed }),
      options: recordedOptions(key.protocol, s),
      n_train: train.rows.length,
      ...(out.history ? { history: out.history } : {}),
      ...(usedFeatures && health ? { feature_health: health } : {}),
      data,
      ...(enc.pretext ? { pretext: enc.pretext } : {}),
    });
    const aucName = target.name === 'abnormal' ? 'AUC' : 'macro AUC';
    log(`${enc.label} ${key.protocol} ${Math.round(100 * key.fraction)}% seed ${key.seed} (${enc.source}): accuracy ${(100 * row.accuracy).toFixed(1)}%, ${aucName} ${row.auc.toFixed(3)}, n_train ${row.n_train}`);
    ctx.onRow?.(row, key);
    rows.push(row);
  }
  return rows;
}
