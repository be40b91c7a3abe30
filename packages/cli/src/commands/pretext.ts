import { join, resolve } from 'node:path';
import { TASKS } from '@cxr-ssl/data';
import { ENCODERS } from '@cxr-ssl/models';
import { type PretextEvent, createEngine, runPretext, taskProblem } from '@cxr-ssl/train';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { openPrepared } from '../dataset.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_RUNS_DIR, flag, int, num } from '../options.ts';
import { type Progress, progress } from '../progress.ts';

export const PretextOptions = z
  .object({
    task: z.enum(Object.keys(TASKS) as [string, ...string[]]),
    encoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('vgg-small'),
    data: z.string().default('kermany-mini'),
    size: int().min(16).default(128),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR),
    epochs: int().positive().default(100),
    batchSize: int().positive().default(64),
    stepsPerEpoch: int().positive().optional(),
    lr: num().positive().default(0.001),
    momentum: num().min(0).max(1).default(0.9),
    decay: num().positive().max(1).default(0.9),
    weightDecay: num().min(0).default(0),
    seed: int().nonnegative().default(0),
    init: z.string().default('random'),
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    permutations: int().min(2).optional(),
    run: z.string().regex(/^[\w.-]+$/, 'letters, digits, . _ - only').optional(),
    runsDir: z.string().default(DEFAULT_RUNS_DIR),
    engine: z.enum(['auto', 'torch', 'tfjs']).default('auto'),
    python: z.string().optional(),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    threads: int().positive().optional(),
    workers: int().nonnegative().optional(),
    resume: flag().default(false),
    quiet: flag().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    // e.g. a patch larger than the grid cell: found now, not after the engine started
    const taskOptions = o.permutations ? { ...o.taskOptions, permutations: o.permutations } : o.taskOptions;
    const problem = taskProblem(o.task, taskOptions, o.size);
    if (problem) ctx.addIssue({ code: 'custom', path: ['taskOptions'], message: problem });
  });
export type PretextOptions = z.infer<typeof PretextOptions>;

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
  if (train === 0 || train >= o.batchSize) return o.batchSize;
  if (!o.quiet) process.stderr.write(`note: the train split of ${o.data}-${o.size} has ${train} images, fewer than --batch-size ${o.batchSize}: using batches of ${train}\n`);
  return train;
}

/** Train one pretext task; returns the run folder. Ctrl-C leaves a resumable checkpoint. */
export async function runPretextCommand(o: PretextOptions): Promise<string> {
  const runDir = resolve(o.runsDir, o.run ?? defaultRunName(o));
  const batchSize = await fittingBatch(o);
  const { engine, reason } = await createEngine(o.engine, { torch: { python: o.python, device: o.device, threads: o.threads } });
  if (!o.quiet) process.stderr.write(`engine: ${engine.name} (${reason})\n`);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping at the next step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let bar: Progress | undefined;
  let epochs = 0;
  const onEvent = (e: PretextEvent) => {
    if (o.quiet) return;
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        process.stderr.write(`${o.task} on ${o.data}-${o.size}, ${o.encoder}, ${e.device}; run folder ${runDir}${e.resumedFrom ? `; resumed at epoch ${e.resumedFrom.epoch + 1}, batch ${e.resumedFrom.batch}` : ''}\n`);
        bar = progress(`${o.task}`, e.epochs * e.stepsPerEpoch);
        bar.update((e.resumedFrom?.step ?? 0));
        break;
      case 'step':
        bar?.update(e.step, { epoch: `${e.epoch + 1}/${epochs}`, loss: e.loss, acc: e.accuracy, 'samples/s': Math.round(e.samplesPerSec) });
        break;
      case 'epoch':
        if (!process.stderr.isTTY) process.stderr.write(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)}${e.valAccuracy !== undefined ? ` val acc ${e.valAccuracy.toFixed(3)}` : ''} lr ${e.lr.toExponential(2)}\n`);
        break;
      case 'checkpoint':
        if (e.reason === 'interrupt') process.stderr.write(`\ncheckpoint written: ${e.dir}; continue with --resume\n`);
        break;
      case 'done':
        bar?.stop();
        process.stderr.write(`encoder written: ${e.encoderOnnx}\n`);
        break;
    }
  };
  try {
    await runPretext(
      {
        task: o.task,
        taskOptions: o.permutations ? { ...o.taskOptions, permutations: o.permutations } : o.taskOptions,
        encoder: o.encoder,
        cache: { dir: resolve(o.cacheDir), name: o.data, size: o.size },
        epochs: o.epochs,
        batchSize,
        stepsPerEpoch: o.stepsPerEpoch,
        optimizer: { lr: o.lr, momentum: o.momentum, decay: o.decay, weightDecay: o.weightDecay },
        seed: o.seed,
        init: o.init === 'random' ? 'random' : resolve(o.init),
        workers: o.workers,
      },
      { runDir, engine, resume: o.resume, signal: abort.signal, onEvent },
    );
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    await engine.close();
  }
  return runDir;
}

export const pretext = defineCommand({
  name: 'pretext',
  summary: 'Pretrain an encoder on a pretext task (context | jigsaw | rotation)',
  flags: [
    ['--task <name>', `pretext task: ${Object.keys(TASKS).join(' | ')}`],
    ['--encoder <name>', `encoder: ${Object.keys(ENCODERS).join(' | ')} (default vgg-small)`],
    ['--data <name>', 'prepared data set name (default kermany-mini)'],
    ['--size <px>', 'image size of the prepared set to use (default 128)'],
    ['--cache-dir <dir>', `dataset cache folder (default ${DEFAULT_CACHE_DIR})`],
    ['--epochs <n>', 'epochs (default 100, as in the study)'],
    ['--batch-size <n>', 'batch size (default 64)'],
    ['--steps-per-epoch <n>', 'cap the steps of an epoch (quick runs)'],
    ['--lr <f>', 'SGD learning rate (default 0.001)'],
    ['--momentum <f>', 'SGD momentum (default 0.9)'],
    ['--decay <f>', 'learning-rate decay per epoch (default 0.9)'],
    ['--weight-decay <f>', 'L2 weight decay (default 0)'],
    ['--seed <n>', 'seed of init, sampling and shuffling (default 0)'],
    ['--init <file>', "'random' or a safetensors file of canonical encoder weights (e.g. ImageNet)"],
    ['--permutations <n>', 'jigsaw: number of permutations (default 100)'],
    ['--run <name>', 'run folder name under --runs-dir (default <task>-<encoder>-<data>-<size>)'],
    ['--runs-dir <dir>', `where run folders live (default ${DEFAULT_RUNS_DIR})`],
    ['--engine <name>', 'auto | torch | tfjs (auto: torch when the python can import it)'],
    ['--python <path>', 'python interpreter for the torch engine (default: env CXR_SSL_PYTHON, .venv-torch, /usr/bin/python3, python3)'],
    ['--device <name>', 'torch engine device: auto | cpu | cuda'],
    ['--threads <n>', 'torch CPU threads'],
    ['--workers <n>', 'batch-sampling worker threads, 0 = in-process (default: cores - 2 from 4 cores up, else 0)'],
    ['--resume', "continue the run folder's latest checkpoint"],
    ['--quiet', 'no progress output'],
  ],
  schema: PretextOptions,
  async run(o) {
    const runDir = await runPretextCommand(o);
    console.log(join(runDir, 'encoder.onnx'));
  },
});
