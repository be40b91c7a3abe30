import { vggSpec } from './vgg.ts';

/**
 * VGG16 with torchvision's `features` topology and names (convs at features.0, .2, .5, .7, .10,
 * .12, .14, .17, .19, .21, .24, .26, .28), one grey input channel and per-view input
 * normalisation. A global average pool replaces torchvision's 7x7 avgpool + flatten so the
 * 512 features do not depend on the image size (the study trains at 128 and 256 px).
 */
export const vgg16 = vggSpec('vgg16', [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
]);
