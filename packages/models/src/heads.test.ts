import { describe, expect, it } from 'vitest';
import { encoderSpec } from './encoders/index.ts';
import { headWeightsShapes, projectorWidths } from './heads.ts';
import { ProjectorHead } from './spec.ts';
import { headSpec } from './tasks/index.ts';

describe('pretext heads', () => {
  const vgg16 = encoderSpec('vgg16');

  it('rotation: one view straight into fc1', () => {
    expect(headWeightsShapes(vgg16, headSpec('rotation', vgg16)).map((w) => [w.name, w.shape])).toEqual([
      ['head.fc1.weight', [256, 512]],
      ['head.fc1.bias', [256]],
      ['head.fc2.weight', [4, 256]],
      ['head.fc2.bias', [4]],
    ]);
  });

  it('context: two views concatenated, 8 classes', () => {
    const shapes = headWeightsShapes(vgg16, headSpec('context', vgg16));
    expect(shapes[0].shape).toEqual([256, 1024]);
    expect(shapes.at(-1)?.shape).toEqual([8]);
  });

  it('jigsaw: shared 64-wide projection per tile, classes from the permutation set', () => {
    const head = headSpec('jigsaw', vgg16, { classes: 30 });
    expect(headWeightsShapes(vgg16, head).map((w) => [w.name, w.shape])).toEqual([
      ['head.proj.weight', [64, 512]],
      ['head.proj.bias', [64]],
      ['head.fc1.weight', [512, 9 * 64]],
      ['head.fc1.bias', [512]],
      ['head.fc2.weight', [30, 512]],
      ['head.fc2.bias', [30]],
    ]);
  });

  it('projector heads (contrastive): per-view MLP to a 128-dim embedding, fc1 as wide as the features', () => {
    const head = headSpec('simclr', vgg16);
    expect(head.kind === 'projector' && head.layers.map((l) => l.layer)).toEqual(['dense', 'relu', 'dense']);
    expect(headWeightsShapes(vgg16, head).map((w) => [w.name, w.shape])).toEqual([
      ['head.fc1.weight', [512, 512]],
      ['head.fc1.bias', [512]],
      ['head.fc2.weight', [128, 512]],
      ['head.fc2.bias', [128]],
    ]);
  });

  it("a projector's layer list: widths run down the list; emitted parts come before the last layer's", () => {
    const head = ProjectorHead.parse({
      kind: 'projector',
      views: 2,
      layers: [
        { layer: 'dense', name: 'head.a', out: 32 },
        { layer: 'bn', name: 'head.b' },
        { layer: 'relu' },
        { layer: 'dense', name: 'head.c', out: 16 },
        { layer: 'emit' },
        { layer: 'cosine', name: 'head.d', out: 64 },
      ],
    });
    expect(projectorWidths(512, head)).toEqual({ inputs: [512, 32, 32, 32, 16, 16], parts: [16, 64] });
    expect(headWeightsShapes(vgg16, head).map((w) => [w.name, w.shape])).toEqual([
      ['head.a.weight', [32, 512]],
      ['head.a.bias', [32]],
      ['head.b.weight', [32]],
      ['head.b.bias', [32]],
      ['head.b.running_mean', [32]],
      ['head.b.running_var', [32]],
      ['head.c.weight', [16, 32]],
      ['head.c.bias', [16]],
      ['head.d.weight', [64, 16]],
    ]);
    expect(() => ProjectorHead.parse({ kind: 'projector', views: 2, layers: [{ layer: 'softmax' }] })).toThrow();
  });

  it('rejects unknown methods and invalid overrides', () => {
    expect(() => headSpec('colorize', vgg16)).toThrow('context, jigsaw, rotation, simclr, moco');
    expect(() => headSpec('rotation', vgg16, { classes: 0 })).toThrow();
  });
});
