import { encoderSpec } from '@cxr-ssl/models';
import type { FrozenFeatures, ProtocolRun } from '../protocols/index.ts';
import { ABNORMAL, type Target } from '../targets.ts';

/**
 * What a protocol is given, for features already in hand: frozen protocols read only `features`,
 * `options`, `seed` and `target` (the encoder, images and rows are placeholders a frozen protocol never reads).
 */
export function frozenRun<O>(f: FrozenFeatures, options: O, seed = 0, target: Target = ABNORMAL): ProtocolRun<O> {
  const rows = (n: number) => ({ rows: Array.from({ length: n }, (_, i) => i), labels: new Int32Array(n) });
  const unused = () => {
    throw new Error('frozenRun: a frozen protocol read the encoder or the images');
  };
  return {
    options,
    seed,
    target,
    encoder: { label: 'features', spec: encoderSpec('vgg-small'), weights: unused },
    images: { count: 0, size: 0, image: unused },
    train: rows(f.train.labels.length),
    test: rows(f.test.labels.length),
    features: async () => f,
    runtime: { provider: 'cpu', log: () => {}, progress: () => ({ update() {}, stop() {} }) },
  };
}
