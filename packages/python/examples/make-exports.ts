/**
 * Export folders of a resnet18 and a densenet121 (seeded random weights, BatchNorm statistics away from
 * 0 / 1) for clean-venv.sh to load, as `cxr-ssl export` writes them for a trained run.
 *   npx tsx packages/python/examples/make-exports.ts <out dir> [size]
 */
import { join } from 'node:path';
import { encoderSpec, initWeights, type Weights } from '@cxr-ssl/models';
import { PretextConfig, writeHubExport } from '@cxr-ssl/train';

const [out, size = '64'] = process.argv.slice(2);
if (!out) {
  console.error('usage: npx tsx packages/python/examples/make-exports.ts <out dir> [size]');
  process.exit(2);
}
let s = 7;
const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
/** BatchNorm statistics and affine away from 0 / 1 (so a dropped buffer would show), of a scale that keeps 121 layers finite */
const DRAW: Record<string, () => number> = { running_mean: () => 0.2 * (next() - 0.5), running_var: () => 1 + next(), weight: () => 0.5 + 0.5 * next(), bias: () => 0.2 * (next() - 0.5) };
const trainedLooking = (w: Weights): Weights =>
  new Map(
    [...w].map(([name, t]) => {
      const bn = w.has(name.replace(/\.[a-z_]+$/, '.running_var'));
      return [name, bn ? { shape: t.shape, data: t.data.map(DRAW[name.split('.').pop()!]) } : t];
    }),
  );
for (const name of ['resnet18', 'densenet121']) {
  const spec = encoderSpec(name);
  const run = PretextConfig.parse({ task: 'simclr', encoder: name, cache: { dir: 'cache', name: 'kermany-mini', size: Number(size) } });
  const { dir } = writeHubExport(join(out, name), { spec, weights: trainedLooking(initWeights(spec, undefined, 3)), run, steps: 0, runDir: join(out, `${name}-run`) });
  console.log(dir);
}
