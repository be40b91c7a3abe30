import { METHODS } from '@cxr-ssl/train';

/**
 * The published numbers being reproduced: linear-evaluation accuracy (%) on NIH ChestX-ray14,
 * normal ('No Finding') vs abnormal, VGG16 encoder, at 128 and 256 px (see DESIGN.md). The
 * pretext tasks' numbers live with each method (train/src/methods); ImageNet's here.
 */
export const STUDY_ACCURACY: Record<string, Partial<Record<number, number>>> = {
  imagenet: { 128: 68.84, 256: 71.98 },
  ...Object.fromEntries(Object.entries(METHODS).flatMap(([name, m]) => (m.study ? [[name, m.study]] : []))),
};

/** Row order of the study's table (ImageNet, the methods in registry order, random init BN-recalibrated, random init), then anything else. */
export const INIT_ORDER = ['imagenet', ...Object.keys(METHODS), 'random-bn', 'random'];
