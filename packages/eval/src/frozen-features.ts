import type { DatasetCache } from '@cxr-ssl/data';
import type { Features } from './extract.ts';
import { extractFeatures } from './extract.ts';
import { chooseExtractor, extractFeaturesTorch } from './extract-torch.ts';
import { cachedFeatures } from './feature-cache.ts';
import type { EvalEncoder } from './identity.ts';
import type { Progress } from './protocols/index.ts';
import { openEncoderSession } from './session.ts';
import type { EvalSettings } from './settings.ts';

export type Split = 'train' | 'val' | 'test';
export type SplitRows = Record<Split, number[]>;

const said = new Set<string>();
/** A note about the machine (which extractor, a provider that failed) once per process, not once per encoder. */
function sayOnce(note: string | undefined, log: (line: string) => void): void {
  if (!note || said.has(note)) return;
  said.add(note);
  log(note);
}

/** The file stem of an encoder's cached features: its weights, the image size and the split (the rows and images are checked against the metadata). */
export const featureKey = (enc: EvalEncoder, size: number, split: Split) => `${enc.weightsHash.slice(0, 16)}-${size}-${split}`;

/**
 * The encoder's frozen features of each split, from `<outDir>/features/` when they were extracted
 * from the same weights, rows and images, else extracted (onnxruntime, or torch: the splits that are
 * not cached from one Python process, as each start imports torch and initialises CUDA).
 */
export async function frozenFeatures(
  enc: EvalEncoder,
  cache: DatasetCache,
  splits: SplitRows,
  s: Pick<EvalSettings, 'features' | 'provider' | 'batchSize'>,
  ctx: { outDir: string; python?: string; log: (line: string) => void; progress: Progress },
): Promise<{ dim: number } & Record<Split, Float32Array>> {
  const how = chooseExtractor(s.features, s.provider, ctx.python);
  const opened = how.extractor === 'ort' ? await openEncoderSession(enc.onnx, { provider: s.provider }) : undefined;
  sayOnce(opened?.note, ctx.log);
  sayOnce(`features: ${opened ? `onnxruntime ${opened.provider}` : 'torch'} (${how.reason})`, ctx.log);
  const order = ['train', 'val', 'test'] as const;
  const bar = ctx.progress(`features ${enc.label}`, order.reduce((n, split) => n + splits[split].length, 0));
  const start = { train: 0, val: splits.train.length, test: splits.train.length + splits.val.length };
  let together: Promise<Features> | undefined;
  const fromTogether = async (split: Split): Promise<Features> => {
    together ??= extractFeaturesTorch({
      encoder: enc.spec,
      weights: enc.weights(),
      images: cache,
      cacheFile: cache.files.u8,
      indices: order.flatMap((x) => splits[x]),
      batchSize: s.batchSize,
      python: how.python,
      onProgress: (d) => bar.update(d),
    });
    const all = await together;
    return { dim: all.dim, features: all.features.slice(start[split] * all.dim, (start[split] + splits[split].length) * all.dim) };
  };
  const out: Partial<Record<Split, Float32Array>> = {};
  let dim = 0;
  try {
    for (const split of order) {
      const indices = splits[split];
      const r = await cachedFeatures({
        runDir: ctx.outDir,
        key: featureKey(enc, cache.size, split),
        onnx: enc.onnx,
        indices,
        dataHash: cache.manifest.planHash,
        extractor: opened ? `onnxruntime ${opened.provider}` : 'torch',
        encoder: { label: enc.label, weights: enc.weightsHash },
        compute: () =>
          opened
            ? extractFeatures({ session: opened.session, images: cache, indices, batchSize: s.batchSize, onProgress: (d) => bar.update(start[split] + d) })
            : fromTogether(split),
      });
      out[split] = r.features;
      dim = r.dim;
    }
  } finally {
    bar.stop();
    await opened?.session.release?.();
  }
  return { dim, train: out.train!, val: out.val!, test: out.test! };
}
