import { VGG16_BLOCKS, vggSpec } from './vgg.ts';

/**
 * torchvision's vgg16_bn features (conv -> BatchNorm -> relu; convs at features.0, .3, .7, .10,
 * ...), grey input, global average pool -> 512 features. Trains from scratch where plain VGG16
 * does not, and its ImageNet .pth imports like vgg16's.
 */
export const vgg16Bn = vggSpec('vgg16-bn', VGG16_BLOCKS, { bn: true });
