import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch } from '@cxr-ssl/data';
import type { Engine, EngineInit, OptimizerState, StepResult } from '../engine.ts';
import type { Weights } from '@cxr-ssl/models';
import { TorchEngine, type TorchEngineOptions } from './torch.ts';

/**
 * `--gpus N`: data-parallel training over N torch processes (DDP; SyncBatchNorm on CUDA; see
 * python/cxr_torch/ddp.py). This engine is the launcher, in place of torchrun: it starts N torch
 * engines with RANK, WORLD_SIZE, LOCAL_RANK and a file:// rendezvous, and sends rank r the r-th
 * slice of the global batch k that the samplers drew, over its own pipe. So a batch is still a
 * pure function of (seed, epoch, k), resume is exact, every slice travels once (no scatter through
 * rank 0), and each rank is a direct child that dies with us (stdin EOF, PR_SET_PDEATHSIG): there is
 * no agent process in between to outlive us. torchrun's elastic restarts are not needed: a failed
 * run resumes from its checkpoint. State (checkpoints, encoder) is read from rank 0.
 */
export class DdpTorchEngine implements Engine {
  readonly name = 'torch';
  readonly inFlight: number;
  private readonly ranks: TorchEngine[];
  private store: string | undefined;

  constructor(opts: TorchEngineOptions & { ranks?: number }) {
    const n = opts.ranks ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`--gpus ${n}: expected a positive whole number of processes`);
    this.store = mkdtempSync(join(tmpdir(), 'cxr-ddp-'));
    const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / n));
    this.ranks = Array.from(
      { length: n },
      (_, r) =>
        new TorchEngine({
          ...opts,
          threads,
          onLog: opts.onLog ? (l) => opts.onLog!(`[rank ${r}] ${l}`) : undefined,
          env: { ...opts.env, RANK: `${r}`, LOCAL_RANK: `${r}`, WORLD_SIZE: `${n}`, CXR_SSL_DDP_INIT: `file://${join(this.store!, 'rendezvous')}` },
        }),
    );
    this.inFlight = this.ranks[0].inFlight;
  }

  get size(): number {
    return this.ranks.length;
  }

  get device(): string {
    return this.ranks[0].device;
  }

  /** the ranks' Python pids (tests check they die with us) */
  get pids(): (number | undefined)[] {
    return this.ranks.map((e) => e.pid);
  }

  async init(init: EngineInit): Promise<void> {
    await this.all((e) => e.init(init));
  }

  /** Rank r trains on samples [r·B/N, (r+1)·B/N): equal slices, so DDP's mean of the ranks' gradients is the global batch's. */
  async trainStep(batch: Batch, lr: number): Promise<StepResult> {
    const n = this.ranks.length;
    const b = batch.shape[0];
    if (b % n !== 0) {
      throw new Error(`batch of ${b} cannot be split evenly over ${n} processes (--gpus ${n}): use a batch size that is a multiple of ${n}`);
    }
    const results = await this.all((e, r) => e.trainStep(slice(batch, (r * b) / n, ((r + 1) * b) / n), lr));
    return mean(results, results.map(() => b / n));
  }

  /** Held-out batches may be any size: the slices differ by at most one, ranks without samples sit it out. */
  async evalStep(batch: Batch): Promise<StepResult> {
    const n = this.ranks.length;
    const b = batch.shape[0];
    const bounds = Array.from({ length: n + 1 }, (_, r) => Math.round((r * b) / n));
    const busy = this.ranks.map((e, r) => ({ e, from: bounds[r], to: bounds[r + 1] })).filter((s) => s.to > s.from);
    const results = await Promise.all(busy.map((s) => s.e.evalStep(slice(batch, s.from, s.to))));
    return mean(results, busy.map((s) => s.to - s.from));
  }

  /** every rank holds the same weights after each step; rank 0's are the run's */
  state(): Promise<{ weights: Weights; optimizer: OptimizerState }> {
    return this.ranks[0].state();
  }

  /** each rank's state (tests compare them) */
  rankStates(): Promise<{ weights: Weights; optimizer: OptimizerState }[]> {
    return Promise.all(this.ranks.map((e) => e.state()));
  }

  async close(): Promise<void> {
    await Promise.all(this.ranks.map((e) => e.close()));
    if (this.store) rmSync(this.store, { recursive: true, force: true });
    this.store = undefined;
  }

  /** Runs `f` on every rank; when one fails the others are killed (they would wait for it in a collective). */
  private async all<T>(f: (e: TorchEngine, r: number) => Promise<T>): Promise<T[]> {
    let first: Error | undefined;
    const results = await Promise.allSettled(
      this.ranks.map((e, r) =>
        f(e, r).catch((err: Error) => {
          if (!first) {
            first = new Error(`rank ${r} of ${this.ranks.length}: ${err.message}`);
            for (const other of this.ranks) if (other !== e) other.kill();
          }
          throw err;
        }),
      ),
    );
    if (first) throw first;
    return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  }
}

function slice(batch: Batch, from: number, to: number): Batch {
  const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
  return { x: batch.x.subarray(from * per, to * per), y: batch.y?.subarray(from, to), shape: [to - from, batch.shape[1], batch.shape[2], batch.shape[3]] };
}

function mean(results: StepResult[], weights: number[]): StepResult {
  const total = weights.reduce((a, b) => a + b, 0);
  const avg = (k: keyof StepResult) => results.reduce((s, r, i) => s + r[k] * weights[i], 0) / total;
  return { loss: avg('loss'), accuracy: avg('accuracy') };
}
