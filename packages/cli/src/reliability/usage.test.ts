import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './spawn.ts';

/**
 * What a user types wrong is a usage error: exit 2, one line naming the option (or the file) and
 * what to do, and nothing written. Each case is the exact command of issue 17's table.
 */
const tmp = mkdtempSync(join(tmpdir(), 'cxr-usage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function refused(args: string[], message: RegExp, cwd = tmp): string {
  const r = runCli(cwd, args);
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(/Aborted|at .*\.ts:\d+|"code":/); // no abort, no stack, no raw zod dump
  return r.err;
}

describe('usage errors exit 2 with the option named', () => {
  it('an unknown flag: one line, like every other usage error', () => {
    const err = refused(['pretext', '--method', 'rotation', '--bogus-flag'], /^cxr-ssl: unknown option '--bogus-flag' \(--help lists the options\)\n$/);
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('--set without =', () => {
    const err = refused(['pretext', '--method', 'simclr', '--set', 'temperature'], /set\.0: give key=value, e.g. --set temperature=0\.1/);
    expect(err).not.toMatch(/Unrecognized key/);
  });

  it('a .json config is parsed as JSON: a trailing comma is a JSON error naming the file', () => {
    const cfg = join(tmp, 'trailing.json');
    writeFileSync(cfg, '{ "method": "rotation", "engine": "tfjs", }\n');
    refused(['pretext', '--config', cfg], /trailing\.json: not valid JSON: /);
  });

  it('a config that is not what its name says is never echoed (e.g. a password file named .json or .yaml)', () => {
    for (const name of ['passwd.json', 'passwd.yaml']) {
      const cfg = join(tmp, name);
      writeFileSync(cfg, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
      const err = refused(['pretext', '--config', cfg], new RegExp(`${name.replace('.', '\\.')}: `));
      expect(err).not.toMatch(/root:x|daemon/);
      rmSync(cfg);
    }
  });

  it('--task and --method that disagree are named as a conflict', () => {
    refused(['pretext', '--task', 'jigsaw', '--method', 'rotation'], /--method rotation and --task jigsaw disagree/);
  });

  it('--trust-coefficient with --optimizer sgd is a conflict, not silently ignored', () => {
    refused(['pretext', '--method', 'rotation', '--optimizer', 'sgd', '--trust-coefficient', '0.01'], /--trust-coefficient applies to --optimizer lars, not sgd/);
  });

  it('eval --fractions: unique and in (0, 1]', () => {
    refused(['eval', '--encoders', 'random', '--fractions', '0.5,0.5'], /fractions: each fraction once/);
    refused(['eval', '--encoders', 'random', '--fractions', '0'], /fractions\.0: each fraction must be in \(0, 1\]/);
    refused(['eval', '--encoders', 'random', '--fractions', '1.5'], /fractions\.0: each fraction must be in \(0, 1\]: at most 1/);
  });

  it('eval --target: a protocol that cannot predict it, and a data set without its labels', () => {
    refused(['eval', '--encoders', 'random', '--target', 'findings', '--protocol', 'linear,finetune'], /--target findings: the finetune protocol predicts abnormal or classes only/);
    refused(['eval', '--encoders', 'random', '--target', 'organs'], /target/);
    // the bundled fixture is a folder per class: classes, no findings (its prepared cache goes to a folder of its own: the other cases check that nothing was written)
    const own = mkdtempSync(join(tmpdir(), 'cxr-usage-target-'));
    try {
      const err = refused(['eval', '--encoders', 'random', '--target', 'findings', '--size', '32', '--cache-dir', 'cache', '--runs-dir', 'runs', '--quiet'], /--target findings: kermany-mini at 32 px keeps no findings for image .*CSV 'findings' column/, own);
      expect(err).not.toMatch(/features/);
      expect(existsSync(join(own, 'runs'))).toBe(false); // refused before any evaluation folder
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("prepare --metadata-dir belongs to the nih adapter", () => {
    refused(['prepare', '--metadata-dir', 'meta', '--cache-dir', 'cache'], /--metadata-dir is the nih adapter's .*pass --adapter nih/);
  });

  it('names are single path components: --run, --name and --data', () => {
    refused(['pretext', '--method', 'rotation', '--run', '..'], /run: a single name, not '\.' or '\.\.'/);
    refused(['pretext', '--method', 'rotation', '--run', 'a/b'], /run: letters, digits, \. _ \+ - only: a single name, not a path \(no '\/'/);
    // pretext pools sets (--data a,b): each name of the list is checked
    refused(['pretext', '--method', 'rotation', '--data', '../x'], /data: '\.\.\/x': give prepared set names \(letters, digits, \. _ \+ -\), comma-separated/);
    refused(['pretext', '--method', 'rotation', '--data', 'kermany,a/b'], /data: 'a\/b': give prepared set names/);
    refused(['linear', '--data', '../x'], /data: letters, digits, \. _ \+ - only: a single name/);
    refused(['prepare', '--name', ''], /name: letters, digits, \. _ \+ - only: a single name/);
    refused(['prepare', '--name', '..'], /name: a single name/);
    expect(readdirSync(tmp).filter((f) => f !== 'trailing.json')).toEqual([]); // nothing was written anywhere
  });

  it('--resume on a run folder that does not exist', () => {
    refused(['pretext', '--method', 'rotation', '--engine', 'tfjs', '--run', 'never-started', '--resume'], /--resume: there is no run folder .*never-started to continue/);
    expect(existsSync(join(tmp, 'runs'))).toBe(false);
  });
});

describe('one default in one place', () => {
  it('eval --encoders random-bn with no --arch uses the encoder pretext and linear default to (it has BatchNorm)', () => {
    const r = runCli(tmp, ['eval', '--encoders', 'random-bn', '--size', '32', '--cache-dir', 'cache', '--runs-dir', 'runs', '--epochs', '1', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/random-bn/);
    expect(existsSync(join(tmp, 'runs', 'eval-kermany-mini-32', 'results.json'))).toBe(true);
  });
});
