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
   * per-view output (a projector's embedding), or, with headPart 0, the encoder's features. With `rows`
   * the pass adds its views to them and leaves `collapse` out of its result: the caller measures once
   * over several passes (a pool's sets, run-data.ts)
   */
  collapse?: { headPart: number; rows?: CollapseRows };
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
  const rows = o.collapse && engine.forward ? (o.collapse.rows ?? new CollapseRows(o.collapse.headPart)) : undefined;
  for (let d = 0; d < draws && o.indices.length > 0; d++) {
    const stream = createBatchStream({ ...o, batchSize: Math.min(o.batchSize, o.indices.length), seed: o.seed + d, epoch: 0, dropLast: false });
    for await (const b of stream) {
      const r = await engine.evalStep(b);
      const n = b.shape[0];
      loss += r.loss * n;
      correct += r.accuracy * n;
      samples += n;
      chance += n / (o.candidates?.(n) ?? Number.NaN);
      if (rows && !rows.full) await rows.add(engine, b);
    }
  }
  const mean = (x: number) => x / Math.max(1, samples);
  const collapse = o.collapse?.rows ? undefined : rows?.stats(); // given rows: the caller measures
  return {
    loss: mean(loss),
    accuracy: mean(correct),
    samples,
    ...(Number.isFinite(chance) && samples > 0 ? { chance: mean(chance) } : {}),
    ...(collapse ? { collapse } : {}),
  };
}

/**
 * Held-out views for the collapse measure: the encoder's features and, with headPart > 0, the head's
 * embedding, at most `limit` rows each.
 */
export class CollapseRows {
  private readonly encoder: RowCollector;
  private readonly embedding: RowCollector;
  constructor(
    readonly headPart: number,
    limit = COLLAPSE_ROWS,
  ) {
    this.encoder = new RowCollector(limit);
    this.embedding = headPart > 0 ? new RowCollector(limit) : this.encoder;
  }

  /** Several passes' rows as one (each keeps its own limit: a pool's sets, COLLAPSE_ROWS / sets each). */
  static joined(parts: readonly CollapseRows[]): CollapseRows {
    const out = new CollapseRows(parts[0]?.headPart ?? 0, Number.POSITIVE_INFINITY);
    for (const p of parts) {
      out.encoder.addAll(p.encoder);
      if (out.embedding !== out.encoder) out.embedding.addAll(p.embedding);
    }
    return out;
  }

  /** A share of the measure's rows: `parts` passes together keep about COLLAPSE_ROWS. */
  static share(headPart: number, parts: number): CollapseRows {
    return new CollapseRows(headPart, Math.max(2, Math.ceil(COLLAPSE_ROWS / Math.max(1, parts))));
  }

  get full(): boolean {
    return this.encoder.full;
  }

  /**
   * The whole-size views of a batch through engine.forward. forward takes painted views: a planned batch
   * (--render torch) is painted here by the TypeScript renderer (it agrees with torch's to a grey level on
   * a few pixels in 10^5), for the rows the measure keeps.
   */
  async add(engine: Engine, b: Batch): Promise<void> {
    const whole = b.shape.reduce((a, c) => a * c, 1); // multi-crop: the local crops follow, left out
    const { features, logits } = await engine.forward!(painted(b).x.subarray(0, whole), b.shape);
    const [n, views, width] = features.shape;
    for (let i = 0; i < n * views; i++) this.encoder.add(features.data.subarray(i * width, (i + 1) * width));
    if (this.embedding === this.encoder) return;
    const out = logits.shape[logits.shape.length - 1];
    for (let i = 0; i < n * views; i++) this.embedding.add(logits.data.subarray(i * out, i * out + this.headPart));
  }

  /** The measure over the rows kept; undefined with fewer than 2. */
  stats(): { embedding: EmbeddingStats; encoder: EmbeddingStats } | undefined {
    if (this.encoder.count < 2) return undefined;
    const encoder = this.encoder.stats();
    return { embedding: this.embedding === this.encoder ? encoder : this.embedding.stats(), encoder };
  }
}

class RowCollector {
  private readonly rows: Float32Array[] = [];
  constructor(private readonly limit: number) {}
  get count(): number {
    return this.rows.length;
  }
  get full(): boolean {
    return this.rows.length >= this.limit;
  }
  add(row: Float32Array): void {
    if (!this.full) this.rows.push(row.slice());
  }
  addAll(other: RowCollector): void {
    for (const r of other.rows) this.add(r);
  }
  stats(): EmbeddingStats {
    const dim = this.rows[0].length;
    const all = new Float32Array(this.rows.length * dim);
    for (const [i, r] of this.rows.entries()) all.set(r, i * dim);
    return embeddingStats(all, this.rows.length, dim);
  }
}
