import { type Batch, type BatchStreamOptions, createBatchStream, painted } from '@cxr-ssl/data';
import { type EmbeddingStats, embeddingStats } from './collapse.ts';
import type { Engine } from './engine.ts';

export interface HeldOutOptions extends Pick<BatchStreamOptions, 'cache' | 'task' | 'workers'> {
  /** the sampler's options for held-out passes, parsed (MethodRun.heldOutSamplerOptions) */
  samplerOptions: Record<string, unknown>;
  /** cache rows never trained on (the val or test split) */
  indices: readonly number[];
  seed: number;
  batchSize: number;
  /**
   * samples drawn per image (each with its own rotation / neighbour / permutation); default: enough
   * for >= 32 samples, at most 8 per image, so a small split still gives a usable estimate (the fixture's 7
   * val images: 5 draws; every held-out pass of a run pays for them)
   */
  draws?: number;
  /** the candidates of the method's held-out top-1 in a batch of b (MethodRun.candidates): gives `chance` */
  candidates?: (batch: number) => number | undefined;
  /**
   * measure collapse (engine.forward): the embedding is the first `headPart` numbers of the head's
   * per-view output (a projector's embedding), or, with headPart 0, the encoder's features
   */
  collapse?: { headPart: number };
}

export interface HeldOutResult {
  loss: number;
  accuracy: number;
  /** samples the figures average over */
  samples: number;
  /** top-1 at chance: the mean of 1 / candidates over the samples */
  chance?: number;
  /** the method's embedding (see HeldOutOptions.collapse) and the encoder's features, over the held-out views */
  collapse?: { embedding: EmbeddingStats; encoder: EmbeddingStats };
}

/**
 * Rows kept for the collapse measure: its eigenvalues (Jacobi, collapse.ts) cost min(rows, dim)^3. Measured
 * on a loaded 2-core machine: 256 x 256 took 4.1 s, 256 x 128 0.2 s; 128 rows keep a pass under ~0.5 s.
 */
const COLLAPSE_ROWS = 128;

/**
 * Pretext loss and accuracy on images the run never trained on, without updates (BatchNorm in
 * inference mode) and with the sampler options the caller gives (MethodRun.heldOutSamplerOptions:
 * without augmentation, except where the augmentations make the views, as in contrastive methods): can the encoder solve the task on real images. Draw d
 * uses seed + d, so the same (engine state, options) always gives the same figures: comparable
 * across epochs and runs. With `collapse`, the same batches' embeddings give the collapse measure.
 */
export async function heldOutPretext(engine: Engine, o: HeldOutOptions): Promise<HeldOutResult> {
  const draws = o.draws ?? Math.min(8, Math.max(1, Math.ceil(32 / Math.max(1, o.indices.length))));
  let loss = 0;
  let correct = 0;
  let samples = 0;
  let chance = 0;
  const encoderRows = new RowCollector();
  const rows = o.collapse && engine.forward ? { encoder: encoderRows, embedding: o.collapse.headPart > 0 ? new RowCollector() : encoderRows } : undefined;
  for (let d = 0; d < draws && o.indices.length > 0; d++) {
    const stream = createBatchStream({ ...o, batchSize: Math.min(o.batchSize, o.indices.length), seed: o.seed + d, epoch: 0, dropLast: false });
    for await (const b of stream) {
      const r = await engine.evalStep(b);
      const n = b.shape[0];
      loss += r.loss * n;
      correct += r.accuracy * n;
      samples += n;
      chance += n / (o.candidates?.(n) ?? Number.NaN);
      if (rows && !rows.encoder.full) await collectRows(engine, b, o.collapse!.headPart, rows);
    }
  }
  const mean = (x: number) => x / Math.max(1, samples);
  return {
    loss: mean(loss),
    accuracy: mean(correct),
    samples,
    ...(Number.isFinite(chance) && samples > 0 ? { chance: mean(chance) } : {}),
    ...(rows && rows.encoder.count >= 2 ? { collapse: collapseOf(rows) } : {}),
  };
}

function collapseOf(rows: { embedding: RowCollector; encoder: RowCollector }): { embedding: EmbeddingStats; encoder: EmbeddingStats } {
  const encoder = rows.encoder.stats();
  return { embedding: rows.embedding === rows.encoder ? encoder : rows.embedding.stats(), encoder };
}

/**
 * The whole-size views of a batch through engine.forward: encoder features and, with headPart > 0, the
 * head's embedding. forward takes painted views: a planned batch (--render torch) is painted here by the
 * TypeScript renderer (it agrees with torch's to a grey level on a few pixels in 10^5), for the at most
 * COLLAPSE_ROWS rows the measure keeps.
 */
async function collectRows(engine: Engine, b: Batch, headPart: number, rows: { embedding: RowCollector; encoder: RowCollector }): Promise<void> {
  const whole = b.shape.reduce((a, c) => a * c, 1); // multi-crop: the local crops follow, left out
  const { features, logits } = await engine.forward!(painted(b).x.subarray(0, whole), b.shape);
  const [n, views, width] = features.shape;
  for (let i = 0; i < n * views; i++) rows.encoder.add(features.data.subarray(i * width, (i + 1) * width));
  if (rows.embedding === rows.encoder) return;
  const out = logits.shape[logits.shape.length - 1];
  for (let i = 0; i < n * views; i++) rows.embedding.add(logits.data.subarray(i * out, i * out + headPart));
}

class RowCollector {
  private readonly rows: Float32Array[] = [];
  get count(): number {
    return this.rows.length;
  }
  get full(): boolean {
    return this.rows.length >= COLLAPSE_ROWS;
  }
  add(row: Float32Array): void {
    if (!this.full) this.rows.push(row.slice());
  }
  stats(): EmbeddingStats {
    const dim = this.rows[0].length;
    const all = new Float32Array(this.rows.length * dim);
    for (const [i, r] of this.rows.entries()) all.set(r, i * dim);
    return embeddingStats(all, this.rows.length, dim);
  }
}
