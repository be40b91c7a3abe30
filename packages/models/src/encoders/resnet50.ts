import { resnetSpec } from './resnet.ts';

/**
 * torchvision's resnet50 trunk (Bottlenecks, 3-4-6-3; MoCo-CXR's backbone), global average pool ->
 * 2048 features; its ImageNet .pth imports by name (`import-weights --encoder resnet50-torchvision`).
 */
export const resnet50 = resnetSpec('resnet50', 'bottleneck', [3, 4, 6, 3]);
