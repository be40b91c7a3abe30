import { context as sampler } from '@cxr-ssl/data';
import { contextHead } from '@cxr-ssl/models';
import { CROSS_ENTROPY } from '../engine.ts';
import { samplerMethod } from './method.ts';

/** Context: classify where the neighbour patch sits. */
export const context = samplerMethod(sampler, contextHead, CROSS_ENTROPY, { study: { 128: 64.03, 256: 66.31 } });
