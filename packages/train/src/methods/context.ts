import { CROSS_ENTROPY } from '../engine.ts';
import type { Method } from './method.ts';

/** Context: classify where the neighbour patch sits. */
export const context: Method = { loss: () => CROSS_ENTROPY, study: { 128: 64.03, 256: 66.31 } };
