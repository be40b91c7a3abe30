import { VGG_SMALL_BLOCKS, vggSpec } from './vgg.ts';

/**
 * The small VGG without normalisation: 4 blocks of 2 convs (32-64-128-256), a max pool after each,
 * global average pool -> 256 features (convs at features.0, .2, .5, .7, .10, .12, .15, .17). Kept
 * to show the difference BatchNorm makes; vgg-small-bn is the one that learns from scratch.
 */
export const vggSmall = vggSpec('vgg-small', VGG_SMALL_BLOCKS);
