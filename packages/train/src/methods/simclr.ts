import { simclr as sampler, simclrSamplerOptions } from '@cxr-ssl/data';
import { HeadSpec, simclrHead } from '@cxr-ssl/models';
import { z } from 'zod';
import { type Method, withLossOptions } from './method.ts';

const { options, samplerOptions } = withLossOptions(simclrSamplerOptions, {
  /** NT-Xent temperature (the paper's best for batch sizes below 1024: 0.1-0.2) */
  temperature: z.number().positive().default(0.2),
});
export type SimclrOptions = z.infer<typeof options>;

/** SimCLR: NT-Xent between the two views of each image. */
export const simclr: Method<SimclrOptions> = {
  options,
  sampler,
  samplerOptions,
  head: (e) => HeadSpec.parse(simclrHead(e)),
  loss: (o) => ({ name: 'nt-xent', temperature: o.temperature }),
  engines: ['torch', 'tfjs'],
  // the negatives are the batch's other images: without any, every view's one candidate is its twin
  caution: (_, { batchSize }) =>
    batchSize < 2
      ? `simclr at a batch of ${batchSize}: its negatives are the other images of the batch, and there are none, so the loss is 0 and the accuracy 1.0 from the first step and nothing is learned. Use --batch-size 2 or more (SimCLR wants hundreds; 32 or more on a small set)`
      : undefined,
  // measured on the fixture at 64 px (docs/DEMO.md): at the shared 0.05 its projections collapse within 10
  // steps (loss at ln 63); at 0.01 the held-out loss falls from ln 13 to 1.7 in 32 steps
  lr: 0.01,
  // each view's positive among the batch's other 2B - 1 views
  candidates: (_, batch) => 2 * batch - 1,
  collapseHint: (o) =>
    `a learning rate too high for the warm-up (--lr, --warmup-epochs; --optimizer lars scales each layer's step), too few negatives in a batch (--batch-size), or a temperature too low or high for them (now ${o.temperature}: --set temperature=)`,
};
