import { spawnSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBatchPools, fixtureDir, prepare } from '@cxr-ssl/data';
import { readSafetensors, writeSafetensors } from '@cxr-ssl/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '../engines/tfjs.ts';
import { type PretextEvent, runPretext } from '../loop.ts';
import { LOCK_FILE } from '../run-lock.ts';

/**
 * Resume checks what it loads, and a run folder has one writer. Real fixture X-rays at 32 px, the
 * in-process engine: one short run is trained once, then copies of its folder are damaged.
 */
let tmp: string;
let cacheDir: string;
let trained: string;

const config = () => ({
  task: 'rotation',
  encoder: 'vgg-small-bn',
  cache: { dir: cacheDir, name: 'fx', size: 32 },
  epochs: 2,
  batchSize: 8,
  stepsPerEpoch: 2,
  seed: 1,
  workers: 0,
  logEvery: 1,
});

/** Trains (or resumes) the 2-epoch run; `stopAfterStep` interrupts it there, leaving a checkpoint. */
async function train(runDir: string, resume: boolean, events: PretextEvent[] = [], stopAfterStep?: number) {
  const engine = new TfjsEngine({ backend: 'wasm' });
  const abort = new AbortController();
  const onEvent = (e: PretextEvent) => {
    events.push(e);
    if (e.type === 'step' && e.step === stopAfterStep) abort.abort();
  };
  try {
    await runPretext(config(), { runDir, engine, resume, onEvent, signal: abort.signal });
  } finally {
    await engine.close();
  }
}

/** A copy of the trained one-epoch run, to damage. */
function copyRun(name: string): string {
  const dir = join(tmp, name);
  cpSync(trained, dir, { recursive: true });
  return dir;
}
const ckptDir = (run: string) => join(run, 'checkpoints', JSON.parse(readFileSync(join(run, 'checkpoints', 'latest.json'), 'utf8')).dir);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cxr-resume-'));
  cacheDir = join(tmp, 'cache');
  await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir, name: 'fx', workers: 0 });
  trained = join(tmp, 'trained');
  await train(trained, false, [], 1);
  if (!existsSync(join(trained, 'checkpoints', 'latest.json')) || existsSync(join(trained, 'encoder.onnx'))) throw new Error('the run to damage did not stop at its checkpoint');
}, 300_000);
afterAll(async () => {
  await closeBatchPools();
  rmSync(tmp, { recursive: true, force: true });
});

describe('resume checks what it loads', () => {
  it('refuses a checkpoint whose tensors hold NaN, naming the file and the tensor', async () => {
    const run = copyRun('nan');
    const file = join(ckptDir(run), 'weights.safetensors');
    const { weights } = readSafetensors(file);
    const t = weights.get('features.0.weight')!;
    t.data[3] = Number.NaN;
    t.data[7] = Number.POSITIVE_INFINITY;
    writeSafetensors(file, weights, { format: 'pt' });
    await expect(train(run, true)).rejects.toThrow(/weights\.safetensors: tensor "features\.0\.weight" holds 2 non-finite value\(s\)/);
    expect(existsSync(join(run, 'encoder.onnx'))).toBe(false);
  });

  it('a corrupt latest.json or run.json is named, with what to do', async () => {
    const a = copyRun('latest');
    writeFileSync(join(a, 'checkpoints', 'latest.json'), '{"dir": "step-\u0001');
    await expect(train(a, true)).rejects.toThrow(/checkpoints\/latest\.json: cannot read it as JSON \(.*\); (no other checkpoint|continue from the previous)/);
    const b = copyRun('runjson');
    writeFileSync(join(ckptDir(b), 'run.json'), '{"version": 1, "epoch": "\u0007"}');
    await expect(train(b, true)).rejects.toThrow(/run\.json: cannot read it as JSON/);
    const c = copyRun('configjson');
    writeFileSync(join(c, 'config.json'), '{"task": "rot');
    await expect(train(c, true)).rejects.toThrow(/config\.json: cannot read it as JSON/);
  });

  it('truncated optimiser state is a damaged checkpoint, not "re-export the weights"', async () => {
    const run = copyRun('truncated');
    const file = join(ckptDir(run), 'optimizer.safetensors');
    truncateSync(file, 100);
    const err = await train(run, true).then(() => undefined, (e: Error) => e.message);
    expect(err).toMatch(/checkpoint step-\d+ is damaged: .*optimizer\.safetensors: not a valid safetensors file/);
    expect(err).not.toMatch(/Re-export/);
    expect(err).toMatch(/new --run name|previous checkpoint/);
  });

  it('the intact copy resumes (the checks do not refuse everything)', async () => {
    const run = copyRun('intact');
    await train(run, true);
    expect(existsSync(join(run, 'encoder.onnx'))).toBe(true);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false); // released at the end
  });
});

describe('a run folder has one writer', () => {
  const lockOf = (pid: number, host = hostname()) => JSON.stringify({ pid, host, started: '2026-01-01T00:00:00.000Z' });

  it('a second live run is refused, naming the first', async () => {
    const run = copyRun('live');
    const sleeper = spawn('sleep', ['60']);
    try {
      writeFileSync(join(run, LOCK_FILE), lockOf(sleeper.pid!));
      await expect(train(run, true)).rejects.toThrow(new RegExp(`in use by another run: pid ${sleeper.pid} on this host`));
      expect(readFileSync(join(run, LOCK_FILE), 'utf8')).toBe(lockOf(sleeper.pid!)); // the holder's lock is left alone
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('two runs started together in one folder: one trains, the other is refused', async () => {
    const run = join(tmp, 'together');
    const results = await Promise.allSettled([train(run, false), train(run, false)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/in use by another run: pid \d+/);
  });

  it('a stale lock of a dead process is taken over with a note', async () => {
    const run = copyRun('stale');
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(join(run, LOCK_FILE), lockOf(Number(dead)));
    const events: PretextEvent[] = [];
    await train(run, true, events);
    expect(events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message).join('\n')).toMatch(new RegExp(`taking over .*run\\.lock: its run \\(pid ${dead}, .*\\) is no longer alive`));
    expect(existsSync(join(run, 'encoder.onnx'))).toBe(true);
  });
});
