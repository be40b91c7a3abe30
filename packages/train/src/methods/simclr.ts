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
  // measured on the fixture at 64 px (docs/DEMO.md): at the shared 0.05 its projections collapse within 10
  // steps (loss at ln 63); at 0.01 the held-out loss falls from ln 13 to 1.7 in 32 steps
  lr: 0.01,
  // each view's positive among the batch's other 2B - 1 views
  candidates: (_, batch) => 2 * batch - 1,
  collapseHint: (o) =>
    `a learning rate too high for the warm-up (--lr, --warmup-epochs; --optimizer lars scales each layer's step), too few negatives in a batch (--batch-size), or a temperature too low or high for them (now ${o.temperature}: --set temperature=)`,
};
