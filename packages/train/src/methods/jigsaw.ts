import { jigsaw as sampler } from '@cxr-ssl/data';
import { jigsawHead } from '@cxr-ssl/models';
import { CROSS_ENTROPY } from '../engine.ts';
import { samplerMethod } from './method.ts';

/** Jigsaw: classify the permutation of the tiles. */
export const jigsaw = samplerMethod(sampler, jigsawHead, CROSS_ENTROPY, {
  study: { 128: 65.91, 256: 65.37 },
  // its loss leaves ln 100 only after ~25 steps on the fixture (docs/DEMO.md: held-out top-1 0.37 after 50
  // steps, 0.03 after a run of 40)
  demo: () => ({ steps: 50 }),
});
