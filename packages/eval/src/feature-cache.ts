import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { z } from 'zod';
import type { Features } from './extract.ts';

/**
 * Feature cache in a run folder: `<runDir>/features/<key>.f32` (rows x dim float32, little-endian)
 * + `<key>.json` (the metadata below). Features are reused only when the encoder bytes, the row
 * indices and the data identity all hash the same and the payload hashes to what was recorded;
 * any mismatch recomputes and says why.
 * Write order: delete the .json, write the .f32, write the .json (each atomic), so a crash in
 * between leaves no metadata and the next run recomputes rather than trusting a mixed pair.
 */
export const FEATURE_CACHE_VERSION = 1;
export const FeatureMeta = z.object({
  version: z.literal(FEATURE_CACHE_VERSION),
  key: z.string(),
  rows: z.number().int().nonnegative(),
  dim: z.number().int().nonnegative(),
  onnxHash: z.string(),
  indicesHash: z.string(),
  /** identity of the images (e.g. the dataset cache manifest hash); '' when not given */
  dataHash: z.string(),
  featuresHash: z.string(),
  created: z.string(),
  /** what computed them (onnxruntime or torch, and the device): both agree within 1e-3, so either is reused */
  extractor: z.string().optional(),
  /** whose features they are: the encoder's label and weights hash (an evaluation names its files by the hash) */
  encoder: z.object({ label: z.string(), weights: z.string() }).optional(),
});
export type FeatureMeta = z.infer<typeof FeatureMeta>;

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function hashIndices(indices: ArrayLike<number>): string {
  return sha256(new Uint8Array(Int32Array.from(indices).buffer));
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface CachedFeaturesInput {
  runDir: string;
  /** file stem, e.g. `test-128`: letters, digits, '.', '_', '-' */
  key: string;
  /** the encoder.onnx bytes (hashed) or their sha256 */
  onnx: Uint8Array | { hash: string };
  indices: ArrayLike<number>;
  dataHash?: string;
  compute: () => Promise<Features>;
  /** recorded in the metadata (see FeatureMeta.extractor) */
  extractor?: string;
  /** recorded in the metadata (see FeatureMeta.encoder) */
  encoder?: { label: string; weights: string };
}

export interface CachedFeatures extends Features {
  reused: boolean;
  /** why the features were (re)computed; absent when reused */
  reason?: string;
}

function staleReason(meta: FeatureMeta, want: Omit<FeatureMeta, 'created' | 'featuresHash' | 'dim' | 'extractor' | 'encoder'>): string | undefined {
  if (meta.onnxHash !== want.onnxHash) return 'the encoder changed';
  if (meta.indicesHash !== want.indicesHash || meta.rows !== want.rows) return 'the image rows changed';
  if (meta.dataHash !== want.dataHash) return 'the data set changed';
  return undefined;
}

export async function cachedFeatures(input: CachedFeaturesInput): Promise<CachedFeatures> {
  if (!/^[\w.+-]+$/.test(input.key)) throw new Error(`feature cache: key '${input.key}' must match [A-Za-z0-9_.+-]+`);
  const dir = join(input.runDir, 'features');
  const binPath = join(dir, `${input.key}.f32`);
  const metaPath = join(dir, `${input.key}.json`);
  const want = {
    version: FEATURE_CACHE_VERSION,
    key: input.key,
    rows: input.indices.length,
    onnxHash: input.onnx instanceof Uint8Array ? sha256(input.onnx) : input.onnx.hash,
    indicesHash: hashIndices(input.indices),
    dataHash: input.dataHash ?? '',
  } as const;

  let reason = 'no cached features';
  if (existsSync(metaPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = FeatureMeta.safeParse(raw);
    if (!parsed.success) reason = `${metaPath} is not valid feature metadata`;
    else {
      const stale = staleReason(parsed.data, want);
      if (stale) reason = stale;
      else if (!existsSync(binPath)) reason = `${binPath} is missing`;
      else {
        const buf = readFileSync(binPath);
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        if (buf.byteLength !== parsed.data.rows * parsed.data.dim * 4 || sha256(bytes) !== parsed.data.featuresHash) {
          reason = `${binPath} does not match its metadata (truncated or overwritten)`;
        } else {
          // copy into an aligned buffer owned by the caller
          const features = new Float32Array(buf.byteLength / 4);
          f32Bytes(features).set(bytes);
          return { features, dim: parsed.data.dim, reused: true };
        }
      }
    }
  }

  const fresh = await input.compute();
  if (fresh.features.length !== want.rows * fresh.dim) {
    throw new Error(`feature cache: computed ${fresh.features.length} values for ${want.rows} rows x dim ${fresh.dim}`);
  }
  mkdirSync(dir, { recursive: true });
  rmSync(metaPath, { force: true });
  const bytes = f32Bytes(fresh.features);
  writeFileAtomic(binPath, bytes);
  const meta: FeatureMeta = { ...want, dim: fresh.dim, featuresHash: sha256(bytes), created: new Date().toISOString(), ...(input.extractor ? { extractor: input.extractor } : {}), ...(input.encoder ? { encoder: input.encoder } : {}) };
  writeFileAtomic(metaPath, `${JSON.stringify(meta, null, 1)}\n`);
  return { ...fresh, reused: false, reason };
}
