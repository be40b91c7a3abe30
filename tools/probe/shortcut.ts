/**
 * How much of a pretext task a trivial probe solves from summary numbers (no texture, no shape): a nearest-centroid
 * classifier on 10 numbers per view (its mean and sd, the means of its 4 edge strips and 4 corner
 * blocks: where exposure, dark margins, collimator edges and burnt-in markers show), trained on
 * samples of the train split, scored on samples of the held-out split, sampled as held-out pretext
 * accuracy samples them (random augmentations off, deterministic transforms kept: evalTaskOptions).
 *
 *   npx tsx tools/probe/shortcut.ts [--size 128] [--draws 8] [--data <name> --cache-dir <dir>]
 *       every task of the study x each shortcut-resistant variant (docs/SHORTCUTS.md), on the fixture
 *   npx tsx tools/probe/shortcut.ts --run runs/rotation-128 [--cache-dir <dir>]
 *       one pretext run: the probe on its own task, options and cache, against the run's held-out
 *       accuracy (last epoch of metrics.jsonl); writes <run>/shortcut.json, which reproduce's
 *       results.md summarises. share = (probe - chance) / (run - chance): how much of what the run
 *       learned above chance a probe that sees no anatomy also gets
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { shortcutProbe } from '@cxr-ssl/eval';
import { heldOutHistory } from '@cxr-ssl/train';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    draws: { type: 'string', default: '8' },
    data: { type: 'string' },
    'cache-dir': { type: 'string' },
    run: { type: 'string' },
  },
});
const draws = Number(a.draws);

/** Each study task with the shortcut-resistant variants (docs/SHORTCUTS.md), as task options. */
const RANDOM_GRID = { name: 'crop', scale: [0.5, 1], ratio: [1, 1] };
const VARIANTS: [string, string, Record<string, unknown>][] = [
  ['rotation', 'default (crop + intensity)', {}],
  ['rotation', '+ body crop', { augment: [{ name: 'body' }, { name: 'crop', scale: [0.5, 1] }, { name: 'intensity' }] }],
  ['rotation', '+ circular mask', { augment: [{ name: 'crop', scale: [0.5, 1] }, { name: 'intensity' }, { name: 'mask', shape: 'circle' }] }],
  ['rotation', '+ frame mask', { augment: [{ name: 'crop', scale: [0.5, 1] }, { name: 'intensity' }, { name: 'mask', shape: 'frame' }] }],
  ...(['context', 'jigsaw'] as const).flatMap((t): [string, string, Record<string, unknown>][] => [
    [t, 'default (fixed grid)', {}],
    [t, '+ per-tile standardisation', { augment: [{ name: 'standardize' }] }],
    [t, '+ body crop', { before: [{ name: 'body' }] }],
    [t, '+ body + standardisation (+ random grid)', { before: [{ name: 'body' }, RANDOM_GRID], augment: [{ name: 'standardize' }] }],
  ]),
];

async function main() {
  if (a.run) {
    const cfg = JSON.parse(readFileSync(join(a.run, 'config.json'), 'utf8')) as { task: string; taskOptions: Record<string, unknown>; cache: { dir: string; name: string; size: number } };
    // --cache-dir: the same prepared images somewhere else (a run made on another machine)
    const cache = openCache(a['cache-dir'] ?? cfg.cache.dir, cfg.cache.name, cfg.cache.size);
    const heldOut = cache.indices('val').length > 0 ? cache.indices('val') : cache.indices('test');
    const r = shortcutProbe(cache, cfg.task, cfg.taskOptions, cache.indices('train'), heldOut, draws);
    const run = heldOutHistory(a.run).at(-1)?.valAccuracy;
    const share = run !== undefined && run > r.chance ? (r.accuracy - r.chance) / (run - r.chance) : undefined;
    const out = { task: cfg.task, probeAccuracy: r.accuracy, runAccuracy: run, chance: r.chance, share, samples: r.samples };
    writeFileAtomic(join(a.run, 'shortcut.json'), `${JSON.stringify(out, null, 1)}\n`);
    console.log(`${cfg.task}: probe ${(100 * r.accuracy).toFixed(1)}% vs run ${run === undefined ? '–' : (100 * run).toFixed(1)}% held-out (chance ${(100 * r.chance).toFixed(1)}%): share ${share === undefined ? '–' : (100 * share).toFixed(0)}%`);
    cache.close();
    return;
  }
  const size = Number(a.size);
  let cacheDir = a['cache-dir'];
  let name = a.data;
  const tmp = mkdtempSync(join(tmpdir(), 'probe-'));
  if (!cacheDir || !name) {
    [cacheDir, name] = [tmp, 'mini'];
    await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [size], cacheDir, name, workers: 0, valFraction: 0 });
  }
  const cache = openCache(cacheDir, name, size);
  const heldOut = cache.indices('test');
  console.log(`trivial probe (10 numbers per view, nearest centroid) on ${name}-${size}, ${draws} draws per image`);
  console.log(`${'task'.padEnd(10)}${'variant'.padEnd(40)}${'probe'.padStart(8)}${'chance'.padStart(8)}`);
  for (const [task, label, options] of VARIANTS) {
    const r = shortcutProbe(cache, task, options, cache.indices('train'), heldOut, draws);
    console.log(`${task.padEnd(10)}${label.padEnd(40)}${`${(100 * r.accuracy).toFixed(1)}%`.padStart(8)}${`${(100 * r.chance).toFixed(1)}%`.padStart(8)}`);
  }
  cache.close();
  rmSync(tmp, { recursive: true, force: true });
}

await main();
