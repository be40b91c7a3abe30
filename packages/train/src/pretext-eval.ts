import { type BatchStreamOptions, createBatchStream } from '@cxr-ssl/data';
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
   * for >= 64 samples, at most 8 per image, so a small split still gives a usable estimate
   */
  draws?: number;
}

export interface HeldOutResult {
  loss: number;
  accuracy: number;
  /** samples the figures average over */
  samples: number;
}

/**
 * Pretext loss and accuracy on images the run never trained on, without updates (BatchNorm in
 * inference mode) and with the sampler options the caller gives (MethodRun.heldOutSamplerOptions:
 * without augmentation, except where the augmentations make the views, as in contrastive methods): can the encoder solve the task on real images. Draw d
 * uses seed + d, so the same (engine state, options) always gives the same figures: comparable
 * across epochs and runs.
 */
export async function heldOutPretext(engine: Engine, o: HeldOutOptions): Promise<HeldOutResult> {
  const draws = o.draws ?? Math.min(8, Math.max(1, Math.ceil(64 / Math.max(1, o.indices.length))));
  let loss = 0;
  let correct = 0;
  let samples = 0;
  for (let d = 0; d < draws && o.indices.length > 0; d++) {
    const stream = createBatchStream({ ...o, batchSize: Math.min(o.batchSize, o.indices.length), seed: o.seed + d, epoch: 0, dropLast: false });
    for await (const b of stream) {
      const r = await engine.evalStep(b);
      loss += r.loss * b.shape[0];
      correct += r.accuracy * b.shape[0];
      samples += b.shape[0];
    }
  }
  return { loss: loss / Math.max(1, samples), accuracy: correct / Math.max(1, samples), samples };
}
