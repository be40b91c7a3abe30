import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encoderSpec, initWeights, writeSafetensors } from '@cxr-ssl/models';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImagenetWeights } from './imagenet.ts';

const dir = mkdtempSync(join(tmpdir(), 'cxr-imagenet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadImagenetWeights checks that the weights fit the encoder and its input scaling', () => {
  const rgb = initWeights(encoderSpec('resnet18-torchvision'), undefined, 1);
  const file = join(dir, 'resnet18-imagenet.safetensors');
  writeSafetensors(file, rgb, { encoder: 'resnet18-torchvision', source: 'torchvision resnet18' });

  it('loads imported weights for the encoder their metadata names, with an ONNX encoder', () => {
    const { onnx } = loadImagenetWeights('resnet18-torchvision', file, join(dir, 'out'));
    expect(onnx.length).toBeGreaterThan(4 * 11e6);
  });

  it('refuses them for another encoder, naming the one to set', () => {
    expect(() => loadImagenetWeights('resnet18', file, join(dir, 'out'))).toThrow(
      `${file} holds weights for encoder resnet18-torchvision, not resnet18: set imagenet.encoder`,
    );
  });

  it('refuses grey (summed) first-conv weights for an RGB-input encoder, naming the weight', () => {
    const grey = join(dir, 'grey.safetensors');
    writeSafetensors(grey, initWeights(encoderSpec('resnet18'), undefined, 1));
    expect(() => loadImagenetWeights('resnet18-torchvision', grey, join(dir, 'out'))).toThrow(
      `${grey}: weight 'conv1.weight' is [64,1,7,7], resnet18-torchvision expects [64,3,7,7]`,
    );
  });
});
