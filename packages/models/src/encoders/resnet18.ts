import { resnetSpec } from './resnet.ts';

/** torchvision's resnet18 trunk (BasicBlocks, 2-2-2-2), global average pool -> 512 features. */
export const resnet18 = resnetSpec('resnet18', 'basic', [2, 2, 2, 2]);
