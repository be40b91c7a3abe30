import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch } from '@cxr-ssl/data';
import { type EncoderSpec, readSafetensors, type Tensor, torchModel, type Weights, writeSafetensors } from '@cxr-ssl/models';
import type { Encoded } from '../methods/method.ts';
import { CROSS_ENTROPY, type Engine, type EngineInit, type OptimizerState, type StepResult, type StepScalars } from '../engine.ts';
import { availableMemory, gib, torchBatchThatFits, torchStepBytes, torchStepShape } from '../memory.ts';
import { batchFrame, EngineStartInterrupted, type ExplainExit, InitAnswer, OkAnswer, PipeClient, StepAnswer, TorchProcessError } from './protocol.ts';
import { findTorchPython, PYTHON_PACKAGE_DIR, pythonPathProblem, TorchPythonError } from '@cxr-ssl/torch';
import { TorchInitSpec } from './torch-schema.ts';

export interface TorchEngineOptions {
  /** interpreter; default: findTorchPython() */
  python?: string;
  device?: 'auto' | 'cpu' | 'cuda';
  /** CPU threads for torch (default: defaultTorchThreads(): every core under 4 cores, else all but one) */
  threads?: number;
  /** steps the loop may keep pending (default 6: Python keeps 4 queued on CUDA, and 2 more travel while the device computes) */
  inFlight?: number;
  /**
   * 'fp64': parameters, activations and losses in float64 on the CPU (an error on CUDA). A test mode, off
   * by default: runs that differ only in reduction order (2 nodes vs one process) then agree within 1e-6
   * after 2 steps, where fp32's near-ties in max pooling compound to 1e-3 (multinode.test.ts). Weights
   * still travel as float32 safetensors.
   */
  precision?: 'fp32' | 'fp64';
  /** torch.compile the model (torch >= 2 only; ignored elsewhere) */
  compile?: boolean;
  /** Python's stderr lines (logs); by default only kept to explain failures */
  onLog?: (line: string) => void;
  /** data-parallel processes of this machine (`--gpus N`, see ddp.ts); unset: one plain process */
  ranks?: number;
  /** several machines (`--nnodes`, see ddp.ts); unset: this machine alone */
  nodes?: NodesOptions;
  /** extra environment of the Python process (ddp.ts sets RANK, WORLD_SIZE, ...) */
  env?: Record<string, string>;
}

/** this machine's place in a multi-node run: node `rank` of `count`, global rank 0 serves the TCP rendezvous */
export interface NodesOptions {
  count: number;
  rank: number;
  masterAddr: string;
  masterPort: number;
  /** default tcp://masterAddr:masterPort (global rank 0 serves the store); 'env://' joins a store a launcher (torchrun) already serves there */
  rendezvous?: 'env://';
}

const LABEL = 'torch engine';

/**
 * torch's CPU threads. Under 4 cores the loop samples in its own thread (no sampling workers), which takes
 * a few per cent of a core, so torch gets every core: on 2 quiet cores (tools/bench/torch-cpu.ts, 64 px,
 * vgg-small-bn, batch 32) rotation ran at 115 samples/s on 2 threads against 62 on 1, SimCLR 47 against 31.
 * The price is on a busy machine, where OpenMP's threads wait at each parallel region for the displaced
 * one: with another process busy on one core, 41 against 62 (`--threads` sets it). From 4 cores up,
 * sampling threads run beside the engine, and torch keeps every core but one.
 * A fixed function of the machine, not of its load: the thread count changes a step's float sums, so a
 * run and its resume must use the same count (docs/ENGINES.md).
 */
export function defaultTorchThreads(ranks = 1, cores = availableParallelism()): number {
  return Math.max(1, Math.floor((cores < 4 ? cores : cores - 1) / ranks));
}

/**
 * PyTorch in a Python child process, fed over a pipe (see protocol.ts). uint8 batches go across
 * as they are; the model normalises them on the device. Answers for step n arrive once step n+1
 * is queued, so keep `inFlight` steps pending to keep the device busy.
 */
export class TorchEngine implements Engine {
  readonly name = 'torch';
  device = 'not started';
  rendersOn: 'cuda' | 'cpu' | undefined;
  readonly inFlight: number;
  private client: PipeClient | undefined;
  private tmp: string | undefined;
  private closed = false;
  /** what the memory estimate of a kill needs: the encoder, the last step's shape, the memory there was at the start */
  private encoder: EncoderSpec | undefined;
  private lastBatch: Pick<Batch, 'shape' | 'local'> | undefined;
  private encodes: Encoded | undefined;
  private readonly memoryAtStart = availableMemory();

  constructor(private readonly opts: TorchEngineOptions = {}) {
    this.inFlight = opts.inFlight ?? 6;
  }

  /** the child's pid (tests check it dies with us) */
  get pid(): number | undefined {
    return this.client?.pid;
  }

  async init(init: EngineInit): Promise<void> {
    if (this.client) throw new Error(`${LABEL}: init() was already called; create a new engine`);
    let python = this.opts.python;
    if (python) {
      const problem = pythonPathProblem(python);
      if (problem) throw new TorchPythonError(problem);
    } else {
      const found = findTorchPython();
      if ('interrupted' in found && found.interrupted) throw new EngineStartInterrupted(`${LABEL}: ${found.error}`, found.interrupted);
      if ('error' in found) throw new Error(`${LABEL}: ${found.error}`);
      python = found.path;
    }
    this.encoder = init.encoder;
    this.encodes = init.encodes;
    this.tmp = mkdtempSync(join(tmpdir(), 'cxr-torch-'));
    const weightsPath = join(this.tmp, 'init-weights.safetensors');
    writeSafetensors(weightsPath, init.weights);
    let optimizerStatePath: string | undefined;
    if (init.optimizerState) {
      optimizerStatePath = join(this.tmp, 'init-optimizer.safetensors');
      writeSafetensors(optimizerStatePath, init.optimizerState);
    }
    const env = { ...process.env, ...this.opts.env, PYTHONPATH: [PYTHON_PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1' };
    this.client = new PipeClient(python, ['-m', 'cxr_torch.server'], { env, label: LABEL, onLog: this.opts.onLog, explainExit: this.explainExit });
    const asked = this.client.request('init', {
        type: 'init',
        // every default filled in here: Python validates against this schema and has none of its own
        ...TorchInitSpec.parse({ ...torchModel(init.encoder, init.head), optimizer: init.optimizer, loss: init.loss ?? CROSS_ENTROPY }),
        seed: init.seed,
        ...(init.startStep !== undefined ? { startStep: init.startStep } : {}),
        device: this.opts.device ?? 'auto',
        threads: this.opts.threads ?? defaultTorchThreads(),
        compile: this.opts.compile ?? false,
        ...(this.opts.precision ? { precision: this.opts.precision } : {}),
        weightsPath,
        ...(optimizerStatePath ? { optimizerStatePath } : {}),
      });
    const answer = InitAnswer.parse(await asked.catch((e: Error) => Promise.reject(this.opts.python ? pythonFailure(this.opts.python, e) : e)));
    const missing = [...init.weights.keys()].filter((n) => !answer.names.includes(n));
    if (missing.length) throw new Error(`${LABEL}: the Python model has no weights named ${missing.slice(0, 5).join(', ')}`);
    this.device = `${answer.device} (torch ${answer.torch})`;
    this.rendersOn = answer.device.startsWith('cuda') ? 'cuda' : 'cpu';
  }

  trainStep(batch: Batch, scalars: StepScalars): Promise<StepResult> {
    return this.step('train', batch, { scalars }).catch((e) => Promise.reject(this.withMemoryHint(e)));
  }

  evalStep(batch: Batch): Promise<StepResult> {
    return this.step('eval', batch, {}).catch((e) => Promise.reject(this.withMemoryHint(e)));
  }

  /** fp32 forward without update: per-view encoder features [B, V, F] and the head's logits [B, classes]. */
  async forward(x: Uint8Array, shape: Batch['shape']): Promise<{ features: Tensor; logits: Tensor }> {
    const client = this.ready();
    const outPath = join(this.tmp!, `forward-${process.hrtime.bigint()}.safetensors`);
    const { fields, payload } = batchFrame({ x, shape }, `${LABEL}: forward`);
    OkAnswer.parse(await client.request('forward', { type: 'forward', ...fields, outPath }, payload));
    const { weights } = readSafetensors(outPath);
    rmSync(outPath, { force: true });
    return { features: weights.get('features')!, logits: weights.get('logits')! };
  }

  /** A snapshot as of the call (requests are answered in order); files of their own, so snapshots asked for back to back never share one. */
  async state(): Promise<{ weights: Weights; optimizer: OptimizerState }> {
    const client = this.ready();
    const id = process.hrtime.bigint();
    const weightsPath = join(this.tmp!, `state-weights-${id}.safetensors`);
    const optimizerPath = join(this.tmp!, `state-optimizer-${id}.safetensors`);
    OkAnswer.parse(await client.request('save', { type: 'save', weightsPath, optimizerPath }));
    try {
      return { weights: readSafetensors(weightsPath).weights, optimizer: readSafetensors(optimizerPath).weights };
    } finally {
      rmSync(weightsPath, { force: true });
      rmSync(optimizerPath, { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (client) {
      if (client.pending === 0) {
        await client.request('close', { type: 'close' }).catch(() => {});
      }
      await client.shutdown();
    }
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  /** kills the Python process at once (a DDP peer failed: the others must not wait for it) */
  kill(): void {
    this.client?.kill();
  }

  /** test hook: asks Python to raise, to check how errors come back */
  fail(message: string): Promise<unknown> {
    return this.ready().request('fail', { type: 'fail', message });
  }

  private async step(type: 'train' | 'eval', batch: Batch, extra: { scalars?: StepScalars }): Promise<StepResult> {
    const client = this.ready();
    const { fields, payload } = batchFrame(batch, `${LABEL}: ${type}`);
    // the training views' shape, planned or painted: what a step holds on the device (the memory hints
    // below estimate a training step; a held-out batch, often smaller, holds no gradients)
    if (type === 'train') this.lastBatch = { shape: batch.shape, local: batch.local };
    const answer = StepAnswer.parse(await client.request(type, { type, ...fields, ...extra }, payload));
    return { loss: answer.loss, accuracy: answer.accuracy };
  }

  /** An allocation that failed in Python (CUDA out of memory, the CPU allocator): the estimate and the batch that fits, added. */
  private withMemoryHint(e: Error): Error {
    if (!(e instanceof TorchProcessError) || !/out of memory|can't allocate memory/i.test(e.message) || !this.encoder || !this.lastBatch) return e;
    const device = this.device.startsWith('cuda') ? 'cuda' : 'cpu';
    const shape = torchStepShape(this.encoder, this.encodes ?? { trained: { views: this.lastBatch.shape[1], patch: this.lastBatch.shape[2] } }, this.lastBatch.shape[0]);
    const need = torchStepBytes(shape, device);
    // on CPU the memory there was at the start says which batch fits; the GPU's is not known here
    const available = device === 'cpu' ? this.memoryAtStart : undefined;
    const fits = available && need > available ? torchBatchThatFits(shape, device, available) : undefined;
    const hint = `${e.message}\nA step of ${shape.batch} samples needs about ${gib(need)} of ${device === 'cuda' ? 'GPU' : 'host'} memory by cxr-ssl's estimate: lower --batch-size${fits ? ` (${fits} fits the ${gib(available!)} there was)` : ''} or --size.`;
    return new TorchProcessError(hint, e.pythonTraceback);
  }

  /**
   * A SIGKILL we did not send is, on a training machine, nearly always the kernel's out-of-memory
   * killer: say so, with the estimate of what the last step needed and the batch that would fit.
   */
  private readonly explainExit: ExplainExit = ({ signal, killedByUs }) => {
    if (signal !== 'SIGKILL' || killedByUs) return undefined;
    const cause = "killed by SIGKILL, not by cxr-ssl: most likely the kernel's out-of-memory killer (`dmesg` or `journalctl -k` then shows \"Out of memory\" for this python)";
    // on CUDA the host holds no activations: the estimate below would say nothing about host memory
    if (!this.encoder || !this.lastBatch || this.device.startsWith('cuda')) return `the Python process was ${cause}.`;
    const [b, v, p] = this.lastBatch.shape;
    const local = this.lastBatch.local ? { views: this.lastBatch.local[1], patch: this.lastBatch.local[2] } : undefined;
    const shape = torchStepShape(this.encoder, this.encodes ?? { trained: { views: v, patch: p, local } }, b);
    const need = torchStepBytes(shape, 'cpu');
    const fits = torchBatchThatFits(shape, 'cpu', this.memoryAtStart);
    const advice =
      need <= this.memoryAtStart
        ? 'That fits what there was, so other processes took memory meanwhile (or it was killed by hand): free memory, or lower --batch-size.'
        : fits
          ? `A batch of ${fits} per process fits: lower --batch-size to ${fits} (or lower --size), or free memory.`
          : 'Not even one sample fits: lower --size, choose a smaller --encoder, or free memory.';
    return (
      `the Python process was ${cause}. Its step of ${b} samples × ${v} view${v > 1 ? 's' : ''} of ${p} px on ${this.encoder.name} needs about ${gib(need)} ` +
      `of host memory by cxr-ssl's estimate, and ${gib(this.memoryAtStart)} was available when it started. ${advice}`
    );
  };

  private ready(): PipeClient {
    if (this.closed) throw new Error(`${LABEL}: used after close()`);
    if (!this.client) throw new Error(`${LABEL}: call init() first`);
    return this.client;
  }
}

/** An init failure of an interpreter named by --python: the option is wrong, unless Python itself reported a failure of ours. */
function pythonFailure(python: string, e: Error): Error {
  const noTorch = /No module named '?torch'?/.test(e.message);
  // a process that never started, or ended with an exit code and no error line of ours: not a Python with torch (a kill is reported as it is)
  const notPython = /cannot start|exited \(code \d+,/.test(e.message);
  if (!(e instanceof TorchProcessError) || !(noTorch || notPython)) return e;
  const why = noTorch ? 'it cannot import torch' : `it did not start the engine (${e.message.replace(`${LABEL}: `, '').split('\n')[0]})`;
  return new TorchPythonError(`--python ${python}: ${why}. Give a Python with torch (tools/setup-python.sh makes .venv-torch), or leave --python out to use the first one found`);
}

export { TorchProcessError };
