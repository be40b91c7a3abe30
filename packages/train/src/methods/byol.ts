import { byol as sampler, byolSamplerOptions } from '@cxr-ssl/data';
import { byolHead, HeadSpec } from '@cxr-ssl/models';
import { z } from 'zod';
import { cosineToOne, type Method, withLossOptions } from './method.ts';

const { options, samplerOptions } = withLossOptions(byolSamplerOptions, {
  /** the target network's moving-average rate at step 0; it rises to 1 on a cosine (the paper: 0.996 for 1000 epochs; fewer, shorter runs want a faster target) */
  tau: z.number().min(0).max(1).default(0.99),
});
export type ByolOptions = z.infer<typeof options>;

/** BYOL: online predictor against an EMA target's projection of the other view, symmetric; no negatives. */
export const byol: Method<ByolOptions> = {
  options,
  sampler,
  samplerOptions,
  head: (e) => HeadSpec.parse(byolHead(e)),
  loss: () => ({ name: 'prediction-cosine' }),
  engines: ['torch'],
  scalars: (o) => ({ tau: cosineToOne(o.tau) }),
  encodes: (shape) => ({ trained: shape, averaged: shape }), // the target sees both views too
  // the projector's and predictor's BatchNorm normalise over the batch's views: of one image, only what tells its two views apart is left
  caution: (_, { batchSize }) =>
    batchSize < 2
      ? `byol at a batch of ${batchSize}: the BatchNorm of its projector and predictor normalises each feature over the batch's views, here the 2 views of one image (each feature is left saying only which view is the larger), and the accuracy is 1.0 by construction (one candidate); nothing useful is learned. Use --batch-size 2 or more (BYOL's BatchNorm wants 32 or more)`
      : undefined,
  // no candidates in its loss (2 - 2 cos); held out, each prediction's own image among the batch's targets
  candidates: (_, batch, heldOut) => (heldOut ? batch : undefined),
  collapseHint: (o) =>
    `a target network that follows the online one too closely or too slowly for the run's length (--set tau=, now ${o.tau}), a learning rate too high for the warm-up (--lr, --warmup-epochs), or too few steps for the predictor to lead (--epochs)`,
};
