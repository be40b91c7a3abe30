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
  // a queue as large as the data set holds stale keys of the very images it is the negative for
  caution: (o, { trainImages }) =>
    o.queue >= trainImages
      ? `moco's queue of ${o.queue} keys is not smaller than the train split (${trainImages} images): many negatives are earlier keys of the query's own image. Set queue below ${trainImages} (--set queue=N, or pretext.options.moco.queue in a reproduce config)`
      : undefined,
};
