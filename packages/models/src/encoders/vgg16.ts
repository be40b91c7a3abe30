import { VGG16_BLOCKS, vggSpec } from './vgg.ts';

/**
 * VGG16 with torchvision's `features` topology and names (convs at features.0, .2, .5, .7, .10,
 * .12, .14, .17, .19, .21, .24, .26, .28), one grey input channel and per-view input
 * normalisation, no BatchNorm: the study's exact encoder. A global average pool replaces
 * torchvision's 7x7 avgpool + flatten so the 512 features do not depend on the image size.
 */
export const vgg16 = vggSpec('vgg16', VGG16_BLOCKS);
