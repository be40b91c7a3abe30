import { rotation as sampler } from '@cxr-ssl/data';
import { rotationHead } from '@cxr-ssl/models';
import { CROSS_ENTROPY } from '../engine.ts';
import { samplerMethod } from './method.ts';

/** Rotation: classify the rotation. */
export const rotation = samplerMethod(sampler, rotationHead, CROSS_ENTROPY, { study: { 128: 67.09, 256: 67.84 } });
