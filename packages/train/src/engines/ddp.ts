import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Batch, sliceBatch } from '@cxr-ssl/data';
import type { Engine, EngineInit, OptimizerState, StepResult, StepScalars } from '../engine.ts';
import type { Tensor, Weights } from '@cxr-ssl/models';
import { defaultTorchThreads, TorchEngine, type TorchEngineOptions } from './torch.ts';

/**
 * `--gpus N`: data-parallel training over N torch processes (DDP; the global batch's BatchNorm
 * statistics: SyncBatchNorm on CUDA, GlobalBatchNorm2d on CPU; see packages/torch/cxr_torch/ddp.py). This
 * engine is the launcher, in place of torchrun: it starts N torch engines with RANK, WORLD_SIZE,
 * LOCAL_RANK and a file:// rendezvous, and sends rank r the r-th slice of the global batch k that
 * the samplers drew, over its own pipe. With `nodes` (`--nnodes M --node-rank j`, docs/MULTI-NODE.md)
 * the same runs on each of M machines: node j's local rank r is global rank j·N + r of M·N, the
 * rendezvous is torch's c10d TCPStore at tcp://master-addr:master-port (served by global rank 0),
 * and every node draws the same global batch and sends its ranks their slices. So a batch is still a
 * pure function of (seed, epoch, k), resume is exact, every slice travels once (no scatter through
 * rank 0), and each rank is a direct child that dies with us (stdin EOF, PR_SET_PDEATHSIG): there is
 * no agent process in between to outlive us. torchrun's elastic restarts are not needed: a failed
 * run resumes from its checkpoint. State (checkpoints, encoder) is read from rank 0.
 */
export class DdpTorchEngine implements Engine {
  readonly name = 'torch';
  readonly inFlight: number;
  readonly writesRun: boolean;
  private readonly ranks: TorchEngine[];
  /** global rank of local rank 0, and the world size */
  private readonly first: number;
  private readonly world: number;
  private store: string | undefined;

  constructor(opts: TorchEngineOptions) {
    const n = opts.ranks ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`--gpus ${n}: expected a positive whole number of processes`);
    const nodes = opts.nodes ?? { count: 1, rank: 0, masterAddr: '', masterPort: 0 };
    if (!Number.isInteger(nodes.rank) || nodes.rank < 0 || nodes.rank >= nodes.count) {
      throw new Error(`--node-rank ${nodes.rank}: expected 0 to ${nodes.count - 1} (--nnodes ${nodes.count})`);
    }
    this.first = nodes.rank * n;
    this.world = nodes.count * n;
    this.writesRun = nodes.rank === 0;
    let rendezvous: string;
    if (opts.nodes?.rendezvous) {
      rendezvous = opts.nodes.rendezvous; // MASTER_ADDR/PORT and TORCHELASTIC_* reach the ranks with our environment
    } else if (opts.nodes) {
      rendezvous = `tcp://${nodes.masterAddr.includes(':') ? `[${nodes.masterAddr}]` : nodes.masterAddr}:${nodes.masterPort}`;
    } else {
      this.store = mkdtempSync(join(tmpdir(), 'cxr-ddp-'));
      rendezvous = `file://${join(this.store, 'rendezvous')}`;
    }
    const threads = opts.threads ?? defaultTorchThreads(n);
    this.ranks = Array.from({ length: n }, (_, r) => {
      const g = this.first + r;
      return new TorchEngine({
        ...opts,
        threads,
        onLog: opts.onLog ? (l) => opts.onLog!(`[rank ${g}] ${l}`) : undefined,
        env: { ...opts.env, RANK: `${g}`, LOCAL_RANK: `${r}`, WORLD_SIZE: `${this.world}`, CXR_SSL_DDP_INIT: rendezvous },
      });
    });
    this.inFlight = this.ranks[0].inFlight;
  }

  get size(): number {
    return this.ranks.length;
  }

  get rendersOn(): 'cuda' | 'cpu' | undefined {
    return this.ranks[0].rendersOn;
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

  /**
   * Global rank g trains on samples [g·B/W, (g+1)·B/W) of the global batch: equal slices, so DDP's
   * mean of the ranks' gradients is the global batch's. The result is this node's ranks' mean (on
   * several machines, node 0's is what the run logs).
   */
  async trainStep(batch: Batch, scalars: StepScalars): Promise<StepResult> {
    const w = this.world;
    const b = batch.shape[0];
    if (b % w !== 0) {
      const which = w === this.ranks.length ? `--gpus ${w}` : `--nnodes × --gpus = ${w}`;
      throw new Error(`batch of ${b} cannot be split evenly over ${w} processes (${which}): use a batch size that is a multiple of ${w}`);
    }
    const results = await this.all((e, r) => e.trainStep(sliceBatch(batch, ((this.first + r) * b) / w, ((this.first + r + 1) * b) / w), scalars));
    return mean(results, results.map(() => b / w));
  }

  /**
   * Held-out batches (any size) go whole to node 0's first rank: forward only, no collective (a
   * contrastive loss then takes its negatives from the whole held-out batch, as in one process);
   * the other ranks sit it out, and the other nodes, which write no metrics, skip it (NaN).
   */
  evalStep(batch: Batch): Promise<StepResult> {
    if (!this.writesRun) return Promise.resolve({ loss: Number.NaN, accuracy: Number.NaN });
    return this.ranks[0].evalStep(batch);
  }

  /** as evalStep: node 0's first rank, forward only (the other nodes write no metrics) */
  forward(x: Uint8Array, shape: Batch['shape']): Promise<{ features: Tensor; logits: Tensor }> {
    if (!this.writesRun) return Promise.reject(new Error('forward: only node 0 measures held-out images'));
    return this.ranks[0].forward(x, shape);
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

function mean(results: StepResult[], weights: number[]): StepResult {
  const total = weights.reduce((a, b) => a + b, 0);
  const avg = (k: keyof StepResult) => results.reduce((s, r, i) => s + r[k] * weights[i], 0) / total;
  return { loss: avg('loss'), accuracy: avg('accuracy') };
}
