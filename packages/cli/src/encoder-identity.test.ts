import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ResultRow, readResultsFile } from '@cxr-ssl/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 32: a row is an encoder, not a method name. Two runs of one method (seeds 0 and 1) evaluated
// together stay two encoders in every output, as a user runs it.
const BIN = new URL('../bin/cxr-ssl.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-identity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const common = ['--size', '32', '--cache-dir', 'cache', '--quiet'];
const pct = (x: number) => (100 * x).toFixed(1);

let rows: ResultRow[];
beforeAll(() => {
  for (const [run, seed] of [['rot-a', '0'], ['rot-b', '1']]) {
    const r = cli('pretext', '--method', 'rotation', '--encoder', 'vgg-small-bn', '--epochs', '1', '--steps-per-epoch', '2', '--batch-size', '8', '--engine', 'tfjs', '--seed', seed, '--run', run, ...common);
    expect(r.code, r.err).toBe(0);
  }
  const r = cli('eval', '--encoders', 'runs/rot-a,runs/rot-b,random', '--protocol', 'linear,knn', '--fractions', '0.5,1', '--seeds', '2', '--epochs', '2', '--k', '5', '--out', 'ev', ...common);
  expect(r.code, r.err).toBe(0);
  rows = readResultsFile(join(tmp, 'ev', 'results.json')).rows;
}, 300_000);

describe('two runs of one method are two encoders', () => {
  it('results.json: a row per encoder, protocol, fraction and seed, each labelled by its run, its method beside it, its own weights', () => {
    expect(rows).toHaveLength(3 * 2 * 2 * 2);
    expect(new Set(rows.map((r) => `${r.label}|${r.protocol}|${r.fraction}|${r.seed}`)).size).toBe(24);
    const of = (label: string) => rows.filter((r) => r.label === label);
    for (const label of ['rot-a', 'rot-b']) {
      expect(of(label).every((r) => r.method === 'rotation' && r.pretext?.run.endsWith(label))).toBe(true);
      expect(new Set(of(label).map((r) => r.weights_sha256)).size).toBe(1);
      expect(new Set(of(label).map((r) => r.seed))).toEqual(new Set([0, 1]));
    }
    expect(of('rot-a')[0].weights_sha256).not.toBe(of('rot-b')[0].weights_sha256);
    // the same cell of the two runs: two encoders' scores, not one blend
    const cell = (label: string) => of(label).find((r) => r.protocol === 'knn' && r.fraction === 1 && r.seed === 0)!;
    expect(cell('rot-a').scores).not.toEqual(cell('rot-b').scores);
    expect(cell('rot-a').paired?.random).toBeDefined();
  });

  it('the feature cache holds each encoder apart: three encoders, three splits each, named by their weights', () => {
    const metas = readdirSync(join(tmp, 'ev', 'features'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(tmp, 'ev', 'features', f), 'utf8')) }));
    expect(metas).toHaveLength(9);
    for (const label of ['rot-a', 'rot-b', 'random']) {
      const mine = metas.filter((m) => m.encoder.label === label);
      expect(mine).toHaveLength(3);
      const hash = rows.find((r) => r.label === label)!.weights_sha256!;
      for (const m of mine) expect(m.file.startsWith(hash.slice(0, 16))).toBe(true);
    }
  });

  it("results.md: a line per protocol and fraction in the compact table for each run, each the mean of its own run's seeds; the best-other column names the other run", () => {
    const md = readFileSync(join(tmp, 'ev', 'results.md'), 'utf8');
    for (const label of ['rot-a', 'rot-b']) {
      const lines = md.split('\n').filter((l) => l.startsWith(`| ${label} | rotation | vgg-small-bn | kermany-mini | random | `) && l.includes(' (n='));
      expect(lines).toHaveLength(4); // linear and knn, 50 % and 100 %
      const linear = rows.filter((r) => r.label === label && r.protocol === 'linear' && r.fraction === 1);
      const mean = linear.reduce((s, r) => s + r.auc, 0) / linear.length;
      const cells = lines.find((l) => l.includes('| linear | 100% '))!.split(' | ');
      expect(cells[7]).toMatch(new RegExp(`^${pct(mean).replace('.', '\\.')} \\[`)); // AUC over this run's seeds
      expect(cells[8]).toMatch(/^2, sd /);
      expect(cells.at(-1)).toMatch(new RegExp(`^${label === 'rot-a' ? 'rot-b' : 'rot-a'} \\**[+−]`)); // ΔAUC vs best other
    }
    const html = readFileSync(join(tmp, 'ev', 'results.html'), 'utf8');
    for (const f of ['label-efficiency.svg', 'linear-eval.svg', 'roc.svg']) {
      const svg = readFileSync(join(tmp, 'ev', f), 'utf8');
      for (const label of ['rot-a', 'rot-b']) expect(svg, `${f} shows ${label}`).toContain(label);
    }
    expect(html).toContain('<td>rot-a</td>');
    expect(html).toContain('<td>rot-b</td>');
  });

  it('--label names a row; two encoders that would share a label are refused before any work, naming --label', () => {
    cpSync(join(tmp, 'runs', 'rot-a'), join(tmp, 'elsewhere', 'rot-a'), { recursive: true });
    const clash = cli('eval', '--encoders', 'runs/rot-a,elsewhere/rot-a', '--out', 'clash', ...common);
    expect(clash.code).toBe(2);
    expect(clash.err).toContain("'runs/rot-a' and 'elsewhere/rot-a' would both be labelled 'rot-a'");
    expect(clash.err).toContain('--label rot-a-a=runs/rot-a,rot-a-b=elsewhere/rot-a');
    const named = cli('eval', '--encoders', 'runs/rot-a,elsewhere/rot-a', '--label', 'kermany=runs/rot-a,copy=elsewhere/rot-a', '--k', '5', '--protocol', 'knn', '--out', 'named', ...common);
    expect(named.code, named.err).toBe(0);
    const labelled = readResultsFile(join(tmp, 'named', 'results.json')).rows;
    expect(labelled.map((r) => r.label)).toEqual(['copy', 'kermany']);
    // the copy has the same weights: the same features, so the same scores, under its own label
    expect(labelled[0].weights_sha256).toBe(labelled[1].weights_sha256);
    expect(labelled[0].scores).toEqual(labelled[1].scores);
    const unknown = cli('eval', '--encoders', 'runs/rot-a', '--label', 'x=runs/rot-b', '--out', 'u', ...common);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("--label x=runs/rot-b: 'runs/rot-b' is not one of --encoders");
  }, 120_000);
});
