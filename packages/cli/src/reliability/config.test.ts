import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPretext } from '@cxr-ssl/train';
import { afterAll, describe, expect, it } from 'vitest';
import { PrepareOptions } from '../commands/prepare.ts';
import { PretextOptions } from '../pretext-options.ts';
import { UsageError, validate } from '../config-file.ts';

/**
 * Impossible options are refused before any work: exit code 2, the option named, no run folder.
 * (cli.test.ts covers --epochs 0, an unknown task, unknown keys / wrong types in a config file.)
 */
const BIN = new URL('../../bin/cxr-ssl.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function refusal(schema: typeof PretextOptions | typeof PrepareOptions, value: Record<string, unknown>): string {
  try {
    validate(schema, value, 'test');
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(value)}`);
}

describe('option checks that need no data', () => {
  const pretextCases: [Record<string, unknown>, RegExp][] = [
    [{ task: 'context', size: 32, taskOptions: { patch: 20 } }, /taskOptions: context at 32 px: grid: patch 20 px does not fit .* \(cell 10 px\): choose patch <= 10/],
    [{ task: 'jigsaw', size: 64, taskOptions: { pach: 3 } }, /taskOptions: options of jigsaw: .*pach/],
    [{ task: 'jigsaw', size: 64, taskOptions: { patch: 0 } }, /taskOptions: options of jigsaw: patch: /],
    [{ task: 'rotation', size: 8 }, /size: .*16/],
    [{ task: 'rotation', epochs: 0 }, /epochs: /],
    [{ task: 'rotation', lr: -0.01 }, /lr: /],
    [{ task: 'rotation', momentum: 1.5 }, /momentum: /],
    [{ task: 'rotation', batchSize: 'many' }, /batchSize: /],
    [{ task: 'jigsaw', set: ['permutations=1'] }, /taskOptions: options of jigsaw: permutations: /],
    [{ method: 'simclr', set: ['temperature=0'] }, /taskOptions: options of simclr: temperature: /],
    [{ method: 'moco', engine: 'tfjs' }, /moco trains on the torch engine, not tfjs: pass --engine torch/],
    [{ method: 'context', size: 32, encoder: 'vgg-small-bn' }, /taskOptions: context at 32 px gives \d+ px views, and vgg-small-bn needs at least 16 px/],
    [{ method: 'rotation', task: 'jigsaw' }, /method: give --method \(or its older name --task\)/],
    [{}, /method: give --method/],
    [{ task: 'rotation', epochz: 3 }, /epochz/],
  ];
  for (const [value, message] of pretextCases) {
    it(`pretext ${JSON.stringify(value)}`, () => expect(refusal(PretextOptions, value)).toMatch(message));
  }
  const prepareCases: [Record<string, unknown>, RegExp][] = [
    [{ sizes: '128,8' }, /sizes.1: image sizes below 16 px/],
    [{ valFraction: 0.9 }, /valFraction: /],
    [{ workers: -1 }, /workers: /],
    [{ checkpointEvery: 0 }, /checkpointEvery: /],
    [{ name: '../evil' }, /name: letters, digits/],
    [{ strict: 'maybe' }, /strict: /],
  ];
  for (const [value, message] of prepareCases) {
    it(`prepare ${JSON.stringify(value)}`, () => expect(refusal(PrepareOptions, value)).toMatch(message));
  }
  it('accepts the defaults (the checks are not simply refusing everything)', () => {
    expect(validate(PretextOptions, { task: 'context', size: 64, taskOptions: { patch: 20 } }, 't').taskOptions).toEqual({ patch: 20 });
    expect(validate(PrepareOptions, {}, 't').checkpointEvery).toBe(256);
  });
});

describe('through the command line: exit code 2 and no run folder', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8' });

  it('a config file asking for a patch larger than the grid cell', () => {
    const cfg = join(tmp, 'context.yaml');
    writeFileSync(cfg, 'task: context\nsize: 32\ntaskOptions:\n  patch: 20\n');
    const r = cli('pretext', '--config', cfg, '--engine', 'tfjs');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/context\.yaml \+ flags.*\n.*taskOptions: .*patch 20 px does not fit/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  });

  it('a negative learning rate given as a flag', () => {
    const r = cli('pretext', '--task', 'rotation', '--lr=-0.5', '--runs-dir', 'r2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/lr: /);
    expect(existsSync(join(tmp, 'r2'))).toBe(false);
  });
});

describe('runPretext (library callers) refuses before creating the run folder', () => {
  it('a patch too large, and a data set that was never prepared', async () => {
    const runDir = join(tmp, 'lib-run');
    const engine = { name: 'never-used' } as never; // must not be touched
    const base = { task: 'context', cache: { dir: join(tmp, 'nocache'), name: 'fx', size: 64 }, epochs: 1 };
    await expect(runPretext({ ...base, taskOptions: { patch: 22 } }, { runDir, engine })).rejects.toThrow(/patch 22 px does not fit/);
    await expect(runPretext(base, { runDir, engine })).rejects.toThrow(/no dataset cache .*fx-64\.json.*cxr-ssl prepare/);
    expect(existsSync(runDir)).toBe(false);
    expect(readdirSync(tmp)).not.toContain('lib-run');
  });
});
