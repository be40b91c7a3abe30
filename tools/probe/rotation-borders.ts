/**
 * How much of the rotation task can be solved from the image borders alone, with and without the
 * rotation sampler's augmentations: a nearest-centroid classifier on 8 border features (mean of
 * each edge strip, mean of each corner block, where the black margins and burnt-in markers sit),
 * trained on samples of the train split, scored on samples of the test split. Chance is 25%.
 *   npx tsx tools/probe/rotation-borders.ts [--size 128] [--draws 20] [--data <prepared name> --cache-dir <dir>]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLERS, createRng, deriveSeed, fixtureDir, openCache, paintSample, prepare } from '@cxr-ssl/data';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '128' }, draws: { type: 'string', default: '20' }, data: { type: 'string' }, 'cache-dir': { type: 'string' } },
});
const size = Number(values.size);
const draws = Number(values.draws);
let cacheDir = values['cache-dir'];
let name = values.data;
const tmp = mkdtempSync(join(tmpdir(), 'probe-'));
if (!cacheDir || !name) {
  cacheDir = tmp;
  name = 'mini';
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [size], cacheDir, name, workers: 0, valFraction: 0 });
}
const cache = openCache(cacheDir, name, size);

function borderFeatures(x: Uint8Array): number[] {
  const strip = Math.max(1, Math.round(size / 16));
  const block = Math.max(1, Math.round(size / 8));
  const mean = (r0: number, r1: number, c0: number, c1: number) => {
    let s = 0;
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += x[r * size + c];
    return s / ((r1 - r0) * (c1 - c0));
  };
  const e = size;
  return [
    mean(0, strip, 0, e), mean(e - strip, e, 0, e), mean(0, e, 0, strip), mean(0, e, e - strip, e),
    mean(0, block, 0, block), mean(0, block, e - block, e), mean(e - block, e, 0, block), mean(e - block, e, e - block, e),
  ];
}

function samples(split: 'train' | 'test', augment: unknown) {
  const opts = SAMPLERS.rotation.options.parse({ augment });
  const out: { f: number[]; y: number }[] = [];
  for (const i of cache.indices(split)) {
    for (let d = 0; d < draws; d++) {
      const s = paintSample(SAMPLERS.rotation, cache.get(i), createRng(deriveSeed(i, d, split === 'train' ? 0 : 1)), opts);
      out.push({ f: borderFeatures(s.x), y: s.y! });
    }
  }
  return out;
}

function probe(augment: unknown): { acc: number; axis: number; n: number } {
  const train = samples('train', augment);
  const test = samples('test', augment);
  const dim = train[0].f.length;
  const mu = Array.from({ length: dim }, (_, j) => train.reduce((s, t) => s + t.f[j], 0) / train.length);
  const sd = Array.from({ length: dim }, (_, j) => Math.sqrt(train.reduce((s, t) => s + (t.f[j] - mu[j]) ** 2, 0) / train.length) || 1);
  const z = (f: number[]) => f.map((v, j) => (v - mu[j]) / sd[j]);
  const centroids = [0, 1, 2, 3].map((k) => {
    const of = train.filter((t) => t.y === k).map((t) => z(t.f));
    return Array.from({ length: dim }, (_, j) => of.reduce((s, f) => s + f[j], 0) / Math.max(1, of.length));
  });
  let right = 0;
  let axis = 0;
  for (const t of test) {
    const f = z(t.f);
    const d = centroids.map((c) => c.reduce((s, v, j) => s + (v - f[j]) ** 2, 0));
    const k = d.indexOf(Math.min(...d));
    if (k === t.y) right++;
    if (k % 2 === t.y % 2) axis++;
  }
  return { acc: right / test.length, axis: axis / test.length, n: test.length };
}

console.log(`rotation from border features alone (${name}-${size}, ${draws} draws per image; chance 25% / axis 50%)`);
for (const [label, augment] of [
  ['none', []],
  ['default (crop 0.5-1 + intensity)', undefined],
  ['crop 0.25-0.6 + intensity', [{ name: 'crop', scale: [0.25, 0.6] }, { name: 'intensity' }]],
] as const) {
  const r = probe(augment);
  console.log(`${label.padEnd(34)} 4-class ${(100 * r.acc).toFixed(1)}%   axis (k mod 2) ${(100 * r.axis).toFixed(1)}%   (n = ${r.n})`);
}
cache.close();
rmSync(tmp, { recursive: true, force: true });
