import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENCODERS, encoderSpec } from '@cxr-ssl/models';
import { METHODS, OptimizerConfig, PRETEXT_DEFAULTS, type PretextEvent, RenderOption, SCHEDULES, type Schedule, TFJS_WASM_HEAP_LIMIT, createEngine, LoggerOption, gib, methodProblem, parseMethod, runPretext, tfjsMicroBatch, tfjsStepBytes } from '@cxr-ssl/train';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { InterruptedError, UsageError } from '../config-file.ts';
import { openPrepared } from '../dataset.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_RUNS_DIR, flag, int, num, pathName } from '../options.ts';
import { DEFAULT_MASTER_PORT, nodesOf } from '../nodes.ts';
import { type Progress, progress } from '../progress.ts';

const DEFAULTS = PRETEXT_DEFAULTS;

export const PretextOptions = z
  .object({
    /** the method; --task is its older name, kept for the study's three pretext tasks */
    method: z.enum(Object.keys(METHODS) as [string, ...string[]]).optional(),
    task: z.enum(Object.keys(METHODS) as [string, ...string[]]).optional(),
    encoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('vgg-small-bn'),
    data: pathName().default('kermany-mini'),
    size: int().min(16).default(128),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR),
    // training settings default to PretextConfig's (one place: packages/train/src/config.ts)
    epochs: int().positive().optional(),
    batchSize: int().positive().optional(),
    stepsPerEpoch: int().positive().optional(),
    lr: num().positive().optional(),
    momentum: num().min(0).max(1).optional(),
    optimizer: z.enum(['sgd', 'lars']).default('sgd'),
    trustCoefficient: num().positive().optional(),
    schedule: z.enum(SCHEDULES).default('cosine'),
    decay: num().positive().optional(),
    warmup: int().nonnegative().optional(),
    warmupEpochs: num().nonnegative().optional(),
    minLr: num().nonnegative().optional(),
    weightDecay: num().min(0).optional(),
    seed: int().nonnegative().default(0),
    init: z.string().default('random'),
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    /** method options as key=value (JSON values where they parse), folded over taskOptions */
    set: z.array(z.string().regex(/^\w+=/, 'give key=value, e.g. --set temperature=0.1')).default([]),
    /** 'none' turns the method's default augmentations off (taskOptions.augment gives a list of your own) */
    augment: z.enum(['default', 'none']).default('default'),
    run: pathName().optional(),
    runsDir: z.string().default(DEFAULT_RUNS_DIR),
    engine: z.enum(['auto', 'torch', 'tfjs']).default('auto'),
    python: z.string().optional(),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    threads: int().positive().optional(),
    /** data-parallel torch processes (DDP), one per GPU; the batch is split evenly over them */
    gpus: int().positive().optional(),
    /** several machines (docs/MULTI-NODE.md); unset: from torchrun's or srun's environment, else one machine */
    nnodes: int().positive().optional(),
    nodeRank: int().nonnegative().optional(),
    masterAddr: z.string().min(1).optional(),
    masterPort: int().min(1).max(65535).optional(),
    compile: flag().default(false),
    workers: int().nonnegative().optional(),
    render: RenderOption,
    resume: flag().default(false),
    quiet: flag().default(false),
    logger: LoggerOption,
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.method && o.task && o.method !== o.task) {
      ctx.addIssue({ code: 'custom', path: ['method'], message: `give --method (or its older name --task), not both: --method ${o.method} and --task ${o.task} disagree` });
      return;
    }
    if (!o.method && !o.task) {
      ctx.addIssue({ code: 'custom', path: ['method'], message: `give --method (or its older name --task): ${Object.keys(METHODS).join(' | ')}` });
      return;
    }
    if (o.set.some((p) => !p.includes('='))) return; // reported as set.N: a key without a value is not an option name
    if (o.trustCoefficient !== undefined && o.optimizer !== 'lars') {
      ctx.addIssue({ code: 'custom', path: ['trustCoefficient'], message: `--trust-coefficient applies to --optimizer lars, not ${o.optimizer}: drop it or pass --optimizer lars` });
    }
    // e.g. a patch larger than the grid cell: found now, not after the engine started
    const problem = methodProblem((o.method ?? o.task)!, taskOptionsOf(o), o.size, o.engine === 'auto' ? undefined : o.engine, o.encoder);
    if (problem) ctx.addIssue({ code: 'custom', path: ['taskOptions'], message: problem });
    for (const [path, message] of scheduleProblems(o)) ctx.addIssue({ code: 'custom', path: [path], message });
    if (o.render === 'torch' && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['render'], message: '--render torch needs the torch engine (--engine torch or auto); tfjs paints with TypeScript' });
    if (o.gpus && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['gpus'], message: '--gpus needs the torch engine (--engine torch or auto)' });
    if (o.nnodes && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['nnodes'], message: '--nnodes needs the torch engine (--engine torch or auto)' });
    if (o.nnodes !== undefined && o.nodeRank !== undefined && o.nodeRank >= o.nnodes) ctx.addIssue({ code: 'custom', path: ['nodeRank'], message: `must be below --nnodes ${o.nnodes}` });
  })
  .transform(({ method, task, ...o }) => ({ ...o, task: (method ?? task)! }));
export type PretextOptions = z.infer<typeof PretextOptions>;

/** --set key=value, with the value read as JSON where it parses (numbers, lists), else as a string. */
function setOptions(pairs: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    pairs.map((p) => {
      const [key, raw] = [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)];
      try {
        return [key, JSON.parse(raw)];
      } catch {
        return [key, raw];
      }
    }),
  );
}

/** The method's options with the --set and --augment flags folded in. */
function taskOptionsOf(o: { taskOptions: Record<string, unknown>; set: string[]; augment: 'default' | 'none' }): Record<string, unknown> {
  return { ...o.taskOptions, ...setOptions(o.set), ...(o.augment === 'none' ? { augment: [] } : {}) };
}

export type ScheduleFlags = { schedule: (typeof SCHEDULES)[number]; decay?: number; warmup?: number; warmupEpochs?: number; minLr?: number; lr?: number };

/** The flags' schedule (see train/src/schedule.ts). */
export function scheduleOf(o: ScheduleFlags): Schedule {
  if (o.schedule === 'cosine') return { name: 'cosine', warmupSteps: o.warmup, warmupEpochs: o.warmupEpochs, minLr: o.minLr ?? 0 };
  return { name: o.schedule, decay: o.decay ?? Number.NaN };
}

/** Flags that do not fit the chosen schedule, as [option, message]. */
function scheduleProblems(o: ScheduleFlags): [string, string][] {
  const out: [string, string][] = [];
  if (o.schedule === 'cosine') {
    if (o.decay !== undefined) out.push(['decay', 'applies to --schedule step | inverse-time, not cosine']);
    if (o.warmup !== undefined && o.warmupEpochs !== undefined) out.push(['warmup', 'give --warmup (steps) or --warmup-epochs, not both']);
    if ((o.minLr ?? 0) >= (o.lr ?? DEFAULTS.optimizer.lr)) out.push(['minLr', `must be below --lr (${o.lr ?? DEFAULTS.optimizer.lr})`]);
    return out;
  }
  if (o.decay === undefined) {
    out.push(['decay', o.schedule === 'step' ? '--schedule step needs --decay (lr x decay per epoch; the study: 0.9)' : "--schedule inverse-time needs --decay (Keras' decay: lr / (1 + decay t) per step)"]);
  } else if (o.schedule === 'step' && o.decay > 1) out.push(['decay', `--schedule step multiplies lr by decay each epoch: give a value in (0, 1], got ${o.decay}`]);
  for (const k of ['warmup', 'warmupEpochs', 'minLr'] as const) if (o[k] !== undefined) out.push([k, 'applies to --schedule cosine only']);
  return out;
}

export function defaultRunName(o: Pick<PretextOptions, 'task' | 'encoder' | 'data' | 'size'>): string {
  return `${o.task}-${o.encoder}-${o.data}-${o.size}`;
}

/**
 * The batch size, lowered to the train split when that is smaller (e.g. the 57 train images of the
 * bundled fixture): a clamped batch rather than a tiny last one, which BatchNorm handles badly.
 * Prepares the bundled fixture on first use.
 */
async function fittingBatch(o: PretextOptions): Promise<number> {
  const cache = await openPrepared(o);
  const train = cache.indices('train').length;
  cache.close();
  const batch = o.batchSize ?? DEFAULTS.batchSize;
  if (train === 0 || train >= batch) return batch;
  if (!o.quiet) process.stderr.write(`note: the train split of ${o.data}-${o.size} has ${train} images, fewer than --batch-size ${batch}: using batches of ${train}\n`);
  return train;
}

/**
 * How a step fits the tfjs wasm heap (4 GiB at most), decided before any work: whole, in passes
 * of a micro-batch with gradient accumulation, or not at all (a usage error naming a size that fits).
 */
function tfjsFit(o: PretextOptions, batch: number): { microBatch?: number; note?: string; problem?: string } {
  const method = parseMethod(o.task, taskOptionsOf(o));
  const encoder = encoderSpec(o.encoder);
  const shapeAt = (size: number) => ({ encoder, batch, ...method.method.sampler.shape(size, method.samplerOptions) });
  const step = shapeAt(o.size);
  const need = tfjsStepBytes(step);
  if (need <= TFJS_WASM_HEAP_LIMIT) return {};
  const micro = tfjsMicroBatch(step);
  if (micro) {
    return {
      microBatch: micro,
      note: `a step of ${batch} at ${o.size} px needs about ${gib(need)} on tfjs-wasm (its heap stops at 4 GiB): each batch is trained in ${batch / micro} passes of ${micro} with gradient accumulation (the whole batch's gradient; a BatchNorm normalises each pass by its own statistics)`,
    };
  }
  let size = o.size;
  while (size > 16 && !tfjsMicroBatch(shapeAt(size))) size = Math.max(16, Math.floor(size / 2 / 16) * 16);
  return {
    problem: `one sample of ${o.task} at ${o.size} px on ${o.encoder} needs about ${gib(tfjsStepBytes({ ...step, batch: 1 }))} on tfjs-wasm, more than its heap holds (4 GiB): use --size ${size} or smaller, a smaller --encoder, or the torch engine (--engine torch)`,
  };
}

/** The command line that continues an interrupted run: this one, with --resume for pretext (reproduce and demo resume by themselves). */
function resumeCommand(): string {
  const args = process.argv.slice(2);
  if (args[0] === 'pretext' && !args.includes('--resume')) args.push('--resume');
  const q = (s: string) => (/^[\w./,=:@-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  return ['npx cxr-ssl', ...args.map(q)].join(' ');
}

/**
 * Train one pretext task; returns the run folder. Ctrl-C finishes the current step, writes a
 * checkpoint and throws InterruptedError with the command that continues the run.
 */
export async function runPretextCommand(o: PretextOptions): Promise<string> {
  const runDir = resolve(o.runsDir, o.run ?? defaultRunName(o));
  if (o.resume && !existsSync(runDir)) {
    throw new UsageError(`--resume: there is no run folder ${runDir} to continue (check --run and --runs-dir; without --resume a new run starts there)`);
  }
  const nodes = nodesOf(o);
  const batchSize = await fittingBatch(o);
  if (o.gpus && batchSize % o.gpus !== 0) throw new UsageError(`the batch of ${batchSize} is not a multiple of --gpus ${o.gpus}: each GPU gets an equal slice; change --batch-size or --gpus`);
  const world = (o.gpus ?? 1) * (nodes?.count ?? 1);
  if (nodes && batchSize % world !== 0) throw new UsageError(`the batch of ${batchSize} is not a multiple of ${world} processes (--nnodes ${nodes.count} × --gpus ${o.gpus ?? 1}): each gets an equal slice; change --batch-size`);
  // a method some engines lack (MoCo: torch only) makes 'auto' mean the engine that has it
  const only = METHODS[o.task].engines;
  const choice = o.engine === 'auto' && only ? (only[0] as 'torch') : o.engine;
  const fit = tfjsFit(o, batchSize);
  const { engine, name, reason } = await createEngine(choice, {
    torch: { python: o.python, device: o.device, threads: o.threads, ranks: o.gpus ?? (nodes ? 1 : undefined), nodes, compile: o.compile },
    tfjs: { microBatch: fit.microBatch },
  });
  if (name === 'tfjs' && fit.problem) {
    await engine.close();
    throw new UsageError(fit.problem);
  }
  if (name === 'tfjs' && fit.note && !o.quiet) process.stderr.write(`note: ${fit.note}\n`);
  if ((o.gpus || nodes) && name !== 'torch') {
    await engine.close();
    throw new UsageError(`${nodes ? `--nnodes ${nodes.count}` : `--gpus ${o.gpus}`} needs the torch engine, but ${reason}`);
  }
  const where = nodes ? `, node ${nodes.rank} of ${nodes.count} (${nodes.source}; rendezvous ${nodes.masterAddr}:${nodes.masterPort}) with ${o.gpus ?? 1} DDP processes${nodes.rank > 0 ? '; node 0 writes the run folder' : ''}` : o.gpus ? `, ${o.gpus} DDP processes` : '';
  if (!o.quiet) process.stderr.write(`engine: ${engine.name} (${reason}${where})\n`);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping at the next step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let bar: Progress | undefined;
  let epochs = 0;
  let lastCheckpoint = '';
  const onEvent = (e: PretextEvent) => {
    if (e.type === 'checkpoint') lastCheckpoint = e.dir;
    if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`); // even when quiet
    if (o.quiet) return;
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        process.stderr.write(`${o.task} on ${o.data}-${o.size}, ${o.encoder}, ${e.device}, views painted by ${e.renderer}; run folder ${runDir}${e.resumedFrom ? `; resumed at epoch ${e.resumedFrom.epoch + 1}, batch ${e.resumedFrom.batch}` : ''}\n`);
        bar = progress(`${o.task}`, e.epochs * e.stepsPerEpoch);
        bar.update((e.resumedFrom?.step ?? 0));
        break;
      case 'step':
        bar?.update(e.step, { epoch: `${e.epoch + 1}/${epochs}`, loss: e.loss, acc: e.accuracy, 'samples/s': Math.round(e.samplesPerSec) });
        break;
      case 'epoch':
        if (!process.stderr.isTTY) process.stderr.write(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)}${e.valAccuracy !== undefined ? ` val acc ${e.valAccuracy.toFixed(3)}` : ''} lr ${e.lr.toExponential(2)}\n`);
        break;
      case 'done':
        bar?.stop();
        process.stderr.write(`encoder written: ${e.encoderOnnx}; for use elsewhere: ${e.exportDir}\n`);
        break;
    }
  };
  let interrupted = false;
  try {
    ({ interrupted } = await runPretext(
      {
        task: o.task,
        taskOptions: taskOptionsOf(o),
        encoder: o.encoder,
        cache: { dir: resolve(o.cacheDir), name: o.data, size: o.size },
        epochs: o.epochs,
        batchSize,
        stepsPerEpoch: o.stepsPerEpoch,
        optimizer: OptimizerConfig.parse({ name: o.optimizer, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, trustCoefficient: o.trustCoefficient }),
        schedule: scheduleOf(o),
        seed: o.seed,
        init: o.init === 'random' ? 'random' : resolve(o.init),
        workers: o.workers,
        render: o.render,
      },
      { runDir, engine, resume: o.resume, signal: abort.signal, onEvent, loggers: o.logger },
    ));
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    await engine.close();
  }
  if (interrupted) throw new InterruptedError(`stopped by Ctrl-C; checkpoint ${lastCheckpoint} kept (no encoder.onnx yet). Continue with:\n  ${resumeCommand()}`);
  return runDir;
}

export const pretext = defineCommand({
  name: 'pretext',
  summary: `Pretrain an encoder with a self-supervised method (${Object.keys(METHODS).join(' | ')})`,
  flags: [
    ['--method <name>', `method: ${Object.keys(METHODS).join(' | ')}`],
    ['--task <name>', "the older name of --method (the study's three pretext tasks)"],
    ['--encoder <name>', `encoder: ${Object.keys(ENCODERS).join(' | ')} (default ${DEFAULTS.encoder})`],
    ['--data <name>', 'prepared data set name (default kermany-mini)'],
    ['--size <px>', 'image size of the prepared set to use (default 128)'],
    ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
    ['--epochs <n>', `epochs (default ${DEFAULTS.epochs}, as in the study)`],
    ['--batch-size <n>', `batch size (default ${DEFAULTS.batchSize})`],
    ['--steps-per-epoch <n>', 'cap the steps of an epoch (quick runs)'],
    ['--lr <f>', `SGD (peak) learning rate (default ${DEFAULTS.optimizer.lr}; the study: 0.001 from ImageNet weights)`],
    ['--momentum <f>', `SGD momentum (default ${DEFAULTS.optimizer.momentum})`],
    ['--optimizer <name>', 'sgd (default) | lars (layer-wise trust ratio, for large contrastive batches)'],
    ['--trust-coefficient <f>', `lars: eta (default ${DEFAULTS.optimizer.trustCoefficient})`],
    ['--schedule <name>', 'lr schedule: cosine (default: linear warm-up, then half cosine) | step (x decay per epoch) | inverse-time (Keras: lr / (1 + decay t))'],
    ['--decay <f>', 'step: lr factor per epoch; inverse-time: decay per step'],
    ['--warmup <steps>', 'cosine: warm-up steps (default 5% of all steps)'],
    ['--warmup-epochs <n>', 'cosine: warm-up in epochs instead of steps'],
    ['--min-lr <f>', 'cosine: the lr it ends at (default 0)'],
    ['--weight-decay <f>', `L2 weight decay (default ${DEFAULTS.optimizer.weightDecay})`],
    ['--seed <n>', 'seed of init, sampling and shuffling (default 0)'],
    ['--init <file>', "'random' or a safetensors file of canonical encoder weights (e.g. ImageNet)"],
    ['--set <key=value...>', "method options by name, as the method's schema has them (README: Methods), e.g. --set temperature=0.1"],
    ['--augment <which>', "default | none: the method's default augmentations (see README), or none"],
    ['--run <name>', 'run folder name under --runs-dir (default <task>-<encoder>-<data>-<size>)'],
    ['--runs-dir <dir>', `where run folders live (default ${DEFAULT_RUNS_DIR})`],
    ['--engine <name>', 'auto | torch | tfjs (auto: torch when the python can import it)'],
    ['--python <path>', 'python interpreter for the torch engine (default: env CXR_SSL_PYTHON, .venv-torch, /usr/bin/python3, python3)'],
    ['--device <name>', 'torch engine device: auto | cpu | cuda'],
    ['--threads <n>', 'torch CPU threads (default: cores - 1, one left to sampling; divided over the processes with --gpus)'],
    ['--gpus <n>', 'torch engine: n data-parallel processes (DDP, one per GPU, SyncBatchNorm; gloo on CPU); the batch is split evenly'],
    ['--nnodes <n>', 'torch engine: machines of one run, each starting its --gpus ranks (docs/MULTI-NODE.md; default: from torchrun / srun, else 1)'],
    ['--node-rank <j>', "this machine's index, 0 to nnodes - 1; node 0 serves the rendezvous and writes the run folder"],
    ['--master-addr <host>', 'node 0, reachable from every node (default: env MASTER_ADDR)'],
    ['--master-port <port>', `node 0's rendezvous port (default: env MASTER_PORT, else ${DEFAULT_MASTER_PORT})`],
    ['--compile', 'torch engine: torch.compile the model'],
    ['--workers <n>', 'batch-sampling worker threads, 0 = in-process (default: cores - 2 from 4 cores up, else 0)'],
    ['--render <who>', 'who paints the augmented views: auto (default: torch on a GPU, typescript on CPU) | typescript (the sampling threads) | torch (the engine, on its device)'],
    ['--resume', "continue the run folder's latest checkpoint"],
    ['--quiet', 'no progress output'],
    ['--logger <names>', 'training curves beside metrics.jsonl while it runs: tensorboard,csv (default; `tensorboard --logdir runs`) | tensorboard | csv | none'],
  ],
  schema: PretextOptions,
  async run(o) {
    const runDir = await runPretextCommand(o);
    if (!nodesOf(o)?.rank) console.log(join(runDir, 'encoder.onnx')); // the other nodes write nothing
  },
});
