import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

/**
 * A torch run must not load TensorFlow.js (nor its wasm): the CLI runs in a child process whose
 * module resolution is watched (tfjs-watch.mjs logs every @tensorflow/* import or require).
 */
const BIN = new URL('../../bin/cxr-ssl.mjs', import.meta.url).pathname;
const WATCH = new URL('./tfjs-watch.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'cxr-no-tfjs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const python = torchPythonForTests('cli/reliability/no-tfjs.test.ts');

/** Runs the CLI; returns its exit code and the @tensorflow modules it resolved. */
function watched(name: string, ...args: string[]): { code: number | null; err: string; tfjs: string[] } {
  const log = join(tmp, `${name}.log`);
  const r = spawnSync(process.execPath, ['--import', WATCH, BIN, ...args, '--cache-dir', 'cache', '--runs-dir', `runs-${name}`, '--quiet'], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, TFJS_WATCH_LOG: log },
  });
  const tfjs = existsSync(log) ? [...new Set(readFileSync(log, 'utf8').trim().split('\n'))] : [];
  return { code: r.status, err: r.stderr, tfjs };
}

const pretext = (engine: string) => ['pretext', '--task', 'rotation', '--size', '32', '--epochs', '1', '--steps-per-epoch', '1', '--batch-size', '8', '--engine', engine];

describe('TensorFlow.js is loaded only by the tfjs engine', () => {
  it('the watch sees a tfjs run load it (so an empty log below means something)', () => {
    const r = watched('tfjs', ...pretext('tfjs'));
    expect(r.code, r.err).toBe(0);
    expect(r.tfjs).toContain('@tensorflow/tfjs-core');
  });
  it('linear evaluation (onnxruntime) does not load it', () => {
    const r = watched('linear', 'linear', '--size', '32', '--epochs', '1', '--encoders', 'random');
    expect(r.code, r.err).toBe(0);
    expect(r.tfjs).toEqual([]);
  });
  it.skipIf('error' in python)('a torch-engine pretext run does not load it', () => {
    const r = watched('torch', ...pretext('torch'), '--python', 'error' in python ? '' : python.path);
    expect(r.code, r.err).toBe(0);
    expect(r.tfjs).toEqual([]);
  });
});
