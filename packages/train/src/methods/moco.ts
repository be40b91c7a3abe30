import { moco as sampler, mocoSamplerOptions } from '@cxr-ssl/data';
import { HeadSpec, mocoHead } from '@cxr-ssl/models';
import { z } from 'zod';
import { type Method, withLossOptions } from './method.ts';

const { options, samplerOptions } = withLossOptions(mocoSamplerOptions, {
  temperature: z.number().positive().default(0.2),
  /** keys kept as negatives; MoCo's 65,536 is for ImageNet: keep it below the train split's size */
  queue: z.number().int().min(1).default(1024),
  /** key encoder <- momentum * key + (1 - momentum) * query, after every step */
  momentum: z.number().min(0).max(1).default(0.99),
  /** one-device stand-in for MoCo's shuffled BN: keys are encoded in this many sub-batches, rolled
   * by one so that a query and its key never share BatchNorm batch statistics (1 = off) */
  shuffleGroups: z.number().int().min(1).default(2),
});
export type MocoOptions = z.infer<typeof options>;

/** MoCo v2: InfoNCE of a query against its momentum-encoded key and a queue of earlier keys. */
export const moco: Method<MocoOptions> = {
  options,
  sampler,
  samplerOptions,
  head: (e) => HeadSpec.parse(mocoHead(e)),
  loss: (o) => ({ name: 'info-nce', temperature: o.temperature, queue: o.queue, momentum: o.momentum, shuffleGroups: o.shuffleGroups }),
  engines: ['torch'],
  // the query network encodes the first view, the key network the second, in shuffleGroups sub-batches (one at a time)
  encodes: ({ patch }, o) => ({ trained: { views: 1, patch }, averaged: { views: 1 / o.shuffleGroups, patch } }),
  // its default queue (1024) suits Kermany's ~4,700 train images; on 57 it holds ~18 copies of each: the
  // largest multiple of the batch below the train split
  demo: ({ trainImages, batchSize }) => ({ options: { queue: Math.max(batchSize, Math.floor((trainImages - 1) / batchSize) * batchSize) } }),
  // training: the key among the queue's; held out: its other view among the held-out batch's (cxr_torch/methods/moco.py)
  candidates: (o, batch, heldOut) => (heldOut ? batch : o.queue + 1),
  collapseHint: (o) =>
    `a queue too large for the data (now ${o.queue} keys: when it nears the train split, many negatives are copies of the query's own image; --set queue=N), a key network that follows too slowly or fast (--set momentum=, now ${o.momentum}), or a learning rate too high (--lr, --warmup-epochs)`,
  // a queue as large as the data set holds stale keys of the very images it is the negative for
  caution: (o, { trainImages }) =>
    o.queue >= trainImages
      ? `moco's queue of ${o.queue} keys is not smaller than the train split (${trainImages} images): many negatives are earlier keys of the query's own image. Set queue below ${trainImages} (--set queue=N, or pretext.options.moco.queue in a reproduce config)`
      : undefined,
};
