import { CROSS_ENTROPY } from '../engine.ts';
import type { Method } from './method.ts';

/** Rotation: classify the rotation. */
export const rotation: Method = { loss: () => CROSS_ENTROPY, study: { 128: 67.09, 256: 67.84 } };
