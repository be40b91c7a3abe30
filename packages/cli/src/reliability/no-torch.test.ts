import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './spawn.ts';

/**
 * The README's first command on a machine where no Python can import torch. CI's machine has torch,
 * so the test hides it: CXR_SSL_PYTHON=none makes the CLI try no interpreter at all (not the
 * workspace's .venv-torch, not /usr/bin/python3), as on a machine without one.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-no-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function withoutTorch(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, CXR_SSL_PYTHON: 'none' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const hidden = 'engine: tfjs (auto: no Python with torch found (CXR_SSL_PYTHON=none)';

describe('without torch, auto falls back to TensorFlow.js for the methods it has', () => {
  it('a default pretext (no --engine) trains on tfjs and says why', () => {
    const r = withoutTorch('pretext', '--method', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`${hidden}, and rotation also trains on tfjs)`);
    expect(r.out.trim()).toBe(join(tmp, 'runs', 'rotation-vgg-small-bn-kermany-mini-32', 'encoder.onnx'));
  });

  it('a torch-only method fails before any training, naming what hid torch', () => {
    const r = withoutTorch('pretext', '--method', 'moco', '--size', '32', '--epochs', '1');
    expect(r.code).toBe(1);
    expect(r.err).toBe('cxr-ssl: moco trains on the torch engine only, and CXR_SSL_PYTHON=none switches torch off (unset it, or pass --python <path>, to use torch)\n');
  });

  it("demo (the README's first command, fewer steps) runs every method tfjs has, says which it skipped, and evaluates them", () => {
    const r = withoutTorch('demo', '--steps', '2', '--size', '64', '--dir', 'demo');
    expect(r.code, r.err).toBe(0);
    for (const m of ['moco', 'byol', 'dino']) expect(r.err).toContain(`note: ${m} skipped: it trains on the torch engine only, and CXR_SSL_PYTHON=none switches torch off`);
    expect(r.err.split('\n').filter((l) => l.startsWith(hidden))).toHaveLength(4);
    const results = ResultsFile.parse(JSON.parse(readFileSync(join(tmp, 'demo', 'results.json'), 'utf8')));
    expect(results.rows.map((x) => x.label).sort()).toEqual(['context', 'jigsaw', 'random', 'rotation', 'simclr']);
    for (const row of results.rows) {
      expect(row.encoder).toBe('vgg-small-bn'); // the random baseline is the runs' architecture
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.accuracy).toBeLessThanOrEqual(1);
      expect(row.auc).toBeGreaterThanOrEqual(0);
      expect(row.auc).toBeLessThanOrEqual(1);
      expect(row.n_test).toBe(32);
    }
    const md = readFileSync(join(tmp, 'demo', 'results.md'), 'utf8');
    // each pretext encoder's settings row names its architecture, its held-out top-1 (chance), its collapse measure (spread / rank) and its optimiser schedule
    expect(md).toMatch(/\| rotation \| rotation \| vgg-small-bn \| kermany-mini \| random \| `[0-9a-f]{12}` \| rotation \| [\d.]+ \(25\.0\) \| [\d.]+ \/ [\d.]+ \| optimizer sgd, lr 0\.05, momentum 0\.9, weightDecay 0\.0005, schedule cosine/);
    // SimCLR's own lr where none is given (Method.lr)
    expect(md).toMatch(/\| simclr \| simclr \|.*optimizer sgd, lr 0\.01,/);
    expect(results.rows.find((x) => x.label === 'rotation')?.pretext?.valAccuracy).toBeTypeOf('number');
    // the pretext table (issue 33) as a section of its own ahead of the plots, the curves, and where the time went
    expect(md).toMatch(/## Pretext training[\s\S]*\| simclr \| 2 \| [\d.]+ → [\d.]+ \| [\d.]+ \(0\.077\) \| [\d.]+ \/ [\d.]+ \| none \|[\s\S]*## Plots[\s\S]*pretext-curves\.png/);
    expect(existsSync(join(tmp, 'demo', 'pretext-curves.png'))).toBe(true);
    expect(readFileSync(join(tmp, 'demo', 'time.md'), 'utf8')).toMatch(/\| rotation \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    expect(r.out).toMatch(/demo finished in \d+ s; results in /);
  });
});
