import { vggSpec } from './vgg.ts';

/**
 * The CPU encoder: VGG16's shape at a fraction of its cost: 4 blocks of 2 convs (32-64-128-256),
 * a max pool after each, global average pool -> 256 features. Names follow the same features.N
 * scheme (convs at features.0, .2, .5, .7, .10, .12, .15, .17).
 */
export const vggSmall = vggSpec('vgg-small', [
  [32, 32],
  [64, 64],
  [128, 128],
  [256, 256],
]);
