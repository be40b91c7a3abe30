/**
 * The published numbers being reproduced: linear-evaluation accuracy (%) on NIH ChestX-ray14,
 * normal ('No Finding') vs abnormal, VGG16 encoder, at 128 and 256 px (see DESIGN.md).
 */
export const STUDY_ACCURACY: Record<string, Partial<Record<number, number>>> = {
  imagenet: { 128: 68.84, 256: 71.98 },
  context: { 128: 64.03, 256: 66.31 },
  jigsaw: { 128: 65.91, 256: 65.37 },
  rotation: { 128: 67.09, 256: 67.84 },
};

/** Row order of the study's table, then anything else we evaluate. */
export const INIT_ORDER = ['imagenet', 'context', 'jigsaw', 'rotation', 'random'];
