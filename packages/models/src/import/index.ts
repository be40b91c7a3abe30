export * from './tfjs-layers.ts';
export * from './keras-layout.ts';
export * from './keras-mobilenetv2.ts';
export * from './keras-vgg16.ts';
export * from './torchvision.ts';
