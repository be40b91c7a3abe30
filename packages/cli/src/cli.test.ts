import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, sharedDataDir } from '@cxr-ssl/data/testing';
import { ResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';

// The CLI as a user runs it: a child process of the bin, exit codes and files checked.
const BIN = new URL('../bin/cxr-ssl.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('option validation happens before any work', () => {
  it('rejects impossible values with the option name and exit code 2', () => {
    const r = cli('pretext', '--task', 'rotation', '--epochs', '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/epochs/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  });
  it('rejects an unknown task, listing the known ones', () => {
    const r = cli('pretext', '--task', 'colorize');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rotation/);
  });
  it('rejects unknown keys and wrong types in a config file, naming the file', () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'task: rotation\nepochz: 3\nlr: fast\n');
    const r = cli('pretext', '--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.yaml');
    expect(r.err).toMatch(/epochz|lr/);
  });
});

describe('the Nx targets with no other flag (the embedded default, kermany-mini)', () => {
  it('pretext prepares the missing cache and clamps the batch to the 57 train images; linear finds the finished run', () => {
    const p = cli('pretext', '--task', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '1', '--engine', 'tfjs', '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache');
    expect(p.code).toBe(0);
    expect(p.err).toContain('preparing the bundled fixture kermany-mini at 32 px');
    expect(p.err).toMatch(/train split of kermany-mini-32 has 57 images, fewer than --batch-size 64: using batches of 57/);
    const run = join(tmp, 'nx-runs', 'rotation-vgg-small-kermany-mini-32');
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).batchSize).toBe(57);
    // a folder with an encoder but no config.json is not a finished run: left out by default, refused by name
    const stray = join(tmp, 'nx-runs', 'stray');
    mkdirSync(stray);
    writeFileSync(join(stray, 'encoder.onnx'), readFileSync(join(run, 'encoder.onnx')));
    const l = cli('linear', '--size', '32', '--epochs', '1', '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache', '--quiet');
    expect(l.code).toBe(0);
    const results = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'nx-runs', 'linear-kermany-mini-32', 'results.json'), 'utf8')));
    expect(results.rows.map((x) => x.init)).toEqual(['rotation', 'random']);
    const named = cli('linear', '--size', '32', '--encoders', stray, '--runs-dir', 'nx-runs', '--cache-dir', 'nx-cache');
    expect(named.code).toBe(2);
    expect(named.err).toMatch(/stray has encoder\.onnx but no config\.json/);
  });
  it('another missing data set gets the exact prepare command; a missing option is named as a flag', () => {
    const r = cli('linear', '--data', 'mydata', '--size', '32', '--encoders', 'random', '--cache-dir', 'c2');
    expect(r.code).toBe(2);
    expect(r.err).toContain('cxr-ssl prepare --source <folder or csv> --name mydata --sizes 32 --cache-dir c2');
    const t = cli('pretext');
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--task is required: pretext task: /);
  });
});

describe('demo', () => {
  it('runs prepare -> three pretext tasks -> linear evaluation and writes 4 result rows', () => {
    const r = cli('demo', '--epochs', '1', '--size', '64', '--dir', 'demo', '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const results = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'demo', 'results.json'), 'utf8')));
    expect(results.rows.map((x) => x.init).sort()).toEqual(['context', 'jigsaw', 'random', 'rotation']);
    for (const row of results.rows) {
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.accuracy).toBeLessThanOrEqual(1);
      expect(row.auc).toBeGreaterThanOrEqual(0);
      expect(row.auc).toBeLessThanOrEqual(1);
      expect(row.n_test).toBe(32);
    }
    expect(readFileSync(join(tmp, 'demo', 'results.md'), 'utf8')).toContain('| rotation | 64 |');
  });
});

describe('reproduce', () => {
  const weights = sharedDataDir() ? join(sharedDataDir()!, '..', 'weights', 'mobilenetv2-0.35-imagenet-tfjs') : undefined;
  const withImagenet = weights !== undefined && existsSync(weights);
  if (!withImagenet) console.warn('reproduce test: ../shared/weights absent, the ImageNet row is left out');

  it('runs the grid, writes the Table-1 report and plots, and skips finished cells on a rerun', () => {
    const cfg = join(tmp, 'grid.yaml');
    writeFileSync(
      cfg,
      [
        'out: grid',
        `data: { source: ${fixtureDir()}, adapter: folder, name: fx }`,
        'sizes: [32]',
        `inits: [${withImagenet ? 'imagenet, ' : ''}rotation, random]`,
        'encoder: vgg-small',
        ...(withImagenet ? [`imagenet: { encoder: mobilenetv2-0.35, weights: ${weights} }`] : []),
        'pretext: { epochs: 1, batchSize: 8, stepsPerEpoch: 2, lr: 0.01, engine: tfjs }',
        'linear: { epochs: 2 }',
      ].join('\n'),
    );
    const first = cli('reproduce', '--config', cfg, '--quiet');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const out = join(tmp, 'grid');
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| rotation \| [\d.]+ \| /);
    expect(md).toContain('majority class');
    if (withImagenet) expect(md).toMatch(/\| imagenet \| [\d.]+ \| 100\.0 \|/);
    for (const f of ['results.json', 'linear-eval.svg', 'linear-eval.png', 'roc.svg', 'pretext-curves.png']) expect(existsSync(join(out, f))).toBe(true);
    const rowFile = join(out, 'rows', 'rotation-32.json');
    const before = readFileSync(rowFile, 'utf8');
    const again = cli('reproduce', '--config', cfg, '--quiet');
    expect(again.code).toBe(0);
    expect(readFileSync(rowFile, 'utf8')).toBe(before);
    // a finished cell trained with other settings is refused, not silently reused
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('lr: 0.01', 'lr: 0.02'));
    const changed = cli('reproduce', '--config', cfg, '--quiet');
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/rotation-32.*different configuration/s);
    // a linear row made with other options is evaluated again, not reused
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('lr: 0.02', 'lr: 0.01').replace('linear: { epochs: 2 }', 'linear: { epochs: 3 }'));
    const relinear = cli('reproduce', '--config', cfg, '--quiet');
    expect(relinear.code).toBe(0);
    expect(JSON.parse(readFileSync(rowFile, 'utf8')).made.epochs).toBe(3);
    expect(JSON.parse(before).made.epochs).toBe(2);
  });
});
