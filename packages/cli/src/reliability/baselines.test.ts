import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * A baseline is the architecture of what it is compared with (issue 27): `random` beside a resnet18
 * run is a resnet18, runs of two encoders with one baseline are refused, and so is an --arch that
 * disagrees with the runs. Real runs of the fixture X-rays on tfjs.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-baselines-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(tmp, args);
const rowsOf = (dir: string) => ResultsFile.parse(JSON.parse(readFileSync(join(tmp, dir, 'results.json'), 'utf8'))).rows;
const quick = ['--method', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '1', '--batch-size', '8', '--engine', 'tfjs', '--quiet'];
const linear = ['linear', '--size', '32', '--epochs', '1'];

describe('the random baseline takes the architecture of the runs it is compared with', () => {
  it('beside a resnet18 run, random is a resnet18 (the same row as --arch resnet18), shown in the encoder column; no CUDA line on a CPU machine', () => {
    for (const [run, encoder] of [['rn', 'resnet18'], ['vg', 'vgg-small-bn']]) {
      const r = cli('pretext', ...quick, '--encoder', encoder, '--run', run);
      expect(r.code, r.err).toBe(0);
    }
    const r = cli(...linear, '--encoders', 'runs/rn,random', '--out', 'l1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/CUDA provider failed|shared library/);
    const rows = rowsOf('l1');
    expect(rows.map((x) => [x.label, x.method, x.encoder])).toEqual([['rn', 'rotation', 'resnet18'], ['random', 'random', 'resnet18']]);
    expect(readFileSync(join(tmp, 'l1', 'results.md'), 'utf8')).toMatch(/\n\| random \| random \| resnet18 \| – \| – \| 32 \| linear \|/);
    const explicit = cli(...linear, '--encoders', 'random', '--arch', 'resnet18', '--out', 'l2', '--quiet');
    expect(explicit.code, explicit.err).toBe(0);
    expect(rowsOf('l2')[0].scores).toEqual(rows[1].scores);
  });

  it('runs of two encoders with one baseline, or an --arch other than the runs, are refused before any work, naming --arch', () => {
    const mixed = cli(...linear, '--encoders', 'runs/rn,runs/vg,random', '--out', 'l3');
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain('cxr-ssl: the runs have different encoders (runs/rn: resnet18, runs/vg: vgg-small-bn), and a random baseline has one architecture');
    expect(mixed.err).toContain('--arch');
    const other = cli(...linear, '--encoders', 'runs/rn,random', '--arch', 'vgg-small-bn', '--out', 'l4');
    expect(other.code).toBe(2);
    expect(other.err).toContain('cxr-ssl: --arch vgg-small-bn: random would be a vgg-small-bn beside runs of another encoder (runs/rn: resnet18)');
    expect(existsSync(join(tmp, 'l3')) || existsSync(join(tmp, 'l4'))).toBe(false);
  });
});
