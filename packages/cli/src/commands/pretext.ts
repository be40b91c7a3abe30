import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { chooseEngine, EngineStartInterrupted, type HeldOutLine, METHODS, openEngine, type PretextEvent, runPretext, type TfjsFit, type TorchFit, tfjsFit, torchFit } from '@cxr-ssl/train';
import { defineCommand } from '../command.ts';
import { InterruptedError, UsageError } from '../config-file.ts';
import { pooledTrainImages } from '../pool-data.ts';
import { nodesOf } from '../nodes.ts';
import { PretextOptions, scheduleOf } from '../pretext-options.ts';
import { type Progress, progress } from '../progress.ts';

/** One held-out pass as a line: the method's loss and top-1 (a pool's: each set's in brackets) beside chance, and its collapse measure. */
export function heldOutText(e: HeldOutLine): string {
  const bySet = Object.entries(e.valBySource ?? {}).map(([set, r]) => `${set} ${r.accuracy.toFixed(3)}`);
  const chance = e.valChance !== undefined ? [`chance ${e.valChance.toFixed(3)}`] : [];
  const notes = [...bySet, ...chance].join(', ');
  const spread = e.valSpread !== undefined ? `, spread ${e.valSpread.toFixed(2)}, rank ${e.valRank!.toFixed(1)}` : '';
  return `held-out at step ${e.step}: loss ${e.valLoss.toFixed(4)}, top-1 ${e.valAccuracy.toFixed(3)}${notes ? ` (${notes})` : ''}${spread}`;
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
  const train = await pooledTrainImages(o, o.pool ?? [{ name: o.data }]);
  const batch = o.batchSize;
  if (train === 0 || train >= batch) return batch;
  if (!o.quiet) process.stderr.write(`note: the train split of ${o.data}-${o.size} has ${train} images, fewer than --batch-size ${batch}: using batches of ${train}\n`);
  return train;
}

/** The command line that continues an interrupted run: this one, with --resume for pretext (reproduce and demo resume by themselves). */
function resumeCommand(): string {
  const args = process.argv.slice(2);
  if (args[0] === 'pretext' && !args.includes('--resume')) args.push('--resume');
  const q = (s: string) => (/^[\w./,=:@-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  return ['npx cxr-ssl', ...args.map(q)].join(' ');
}

/**
 * Train one pretext task; returns the run folder. Ctrl-C (or SIGTERM, SIGUSR1) finishes the current
 * step, writes a checkpoint and throws InterruptedError with the command that continues the run.
 */
export async function runPretextCommand(o: PretextOptions): Promise<string> {
  const stop = stopOnSignals(); // from the start: a signal while the engine starts must not kill torch's probe unnoticed
  try {
    return await pretextUntilStopped(o, stop);
  } catch (e) {
    // a signal that came while the engine was chosen or started (Python still importing torch) is no missing torch
    if (e instanceof EngineStartInterrupted) throw new InterruptedError(`stopped by ${signalName(e.signal)} before training started: nothing to resume. Run the same command again`, exitCodeOf(e.signal));
    throw e;
  } finally {
    stop.release();
  }
}

async function pretextUntilStopped(o: PretextOptions, stop: Stop): Promise<string> {
  const runDir = resolve(o.runsDir, o.run ?? defaultRunName(o));
  if (o.resume && !existsSync(runDir)) {
    throw new UsageError(`--resume: there is no run folder ${runDir} to continue (check --run and --runs-dir; without --resume a new run starts there)`);
  }
  const nodes = nodesOf(o);
  const batchSize = await fittingBatch(o);
  if (o.gpus && batchSize % o.gpus !== 0) throw new UsageError(`the batch of ${batchSize} is not a multiple of --gpus ${o.gpus}: each GPU gets an equal slice; change --batch-size or --gpus`);
  const world = (o.gpus ?? 1) * (nodes?.count ?? 1);
  if (nodes && batchSize % world !== 0) throw new UsageError(`the batch of ${batchSize} is not a multiple of ${world} processes (--nnodes ${nodes.count} × --gpus ${o.gpus ?? 1}): each gets an equal slice; change --batch-size`);
  // auto: the first engine of the method's list that is available here (train/src/engines/choose.ts)
  const choice = chooseEngine(o.engine, { engines: o.method.method.engines, python: o.python, method: o.task });
  if ((o.gpus || nodes) && choice.name !== 'torch') throw new UsageError(`${nodes ? `--nnodes ${nodes.count}` : `--gpus ${o.gpus}`} needs the torch engine, but ${choice.reason}`);
  if (o.render === 'torch' && choice.name !== 'torch') throw new UsageError(`--render torch needs the torch engine, but ${choice.reason}; tfjs paints with TypeScript (--render typescript or auto)`);
  const fit: TfjsFit = choice.name === 'tfjs' ? tfjsFit(o.method, { encoder: o.encoder, size: o.size, batch: batchSize }) : {};
  if (fit.problem) throw new UsageError(fit.problem);
  if (fit.note && !o.quiet) process.stderr.write(`note: ${fit.note}\n`);
  // the torch engine's peak memory, estimated before any work (--ignore-memory-estimate: try anyway)
  const memory: TorchFit = choice.name === 'torch' && !o.ignoreMemoryEstimate ? torchFit(o.method, { encoder: o.encoder, size: o.size, batch: batchSize, device: o.device, python: o.python, world, localRanks: o.gpus ?? 1 }) : {};
  if (memory.problem) throw new UsageError(memory.problem);
  const { engine, reason } = await openEngine(choice, {
    torch: { python: o.python, device: o.device, threads: o.threads, ranks: o.gpus ?? (nodes ? 1 : undefined), nodes, compile: o.compile },
    tfjs: { microBatch: fit.microBatch },
  });
  const where = nodes ? `, node ${nodes.rank} of ${nodes.count} (${nodes.source}; rendezvous ${nodes.masterAddr}:${nodes.masterPort}) with ${o.gpus ?? 1} DDP processes${nodes.rank > 0 ? '; node 0 writes the run folder' : ''}` : o.gpus ? `, ${o.gpus} DDP processes` : '';
  if (!o.quiet) process.stderr.write(`engine: ${engine.name} (${reason}${where})\n`);
  if (memory.warning) process.stderr.write(`warning: ${memory.warning}\n`);
  if (stop.signal.aborted) {
    await engine.close();
    throw new InterruptedError(`stopped by ${signalName(stop.received!)} before training started: nothing to resume. Run the same command again`, exitCodeOf(stop.received!));
  }
  let bar: Progress | undefined;
  let epochs = 0;
  let lastCheckpoint = '';
  const onEvent = (e: PretextEvent) => {
    if (e.type === 'checkpoint') lastCheckpoint = e.dir;
    if (e.type === 'warning') process.stderr.write(`${e.cleared ? 'note' : 'warning'}: ${e.message}\n`); // even when quiet
    if (o.quiet) return;
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        process.stderr.write(`${o.task} on ${o.data}-${o.size}, ${o.encoder}, ${e.device}, views painted by ${e.renderer}; run folder ${runDir}${e.resumedFrom ? `; resumed at epoch ${e.resumedFrom.epoch + 1}, batch ${e.resumedFrom.batch}` : ''}\n`);
        bar = progress(`${o.task}`, e.epochs * e.stepsPerEpoch, false, { from: e.resumedFrom?.step ?? 0 });
        break;
      case 'step':
        bar?.update(e.step, { epoch: `${e.epoch + 1}/${epochs}`, loss: e.loss, acc: e.accuracy, 'samples/s': Math.round(e.samplesPerSec) });
        break;
      case 'epoch':
        // at most ~20 epoch lines a run, the last included (the fixture's epochs are 1 step each)
        if (e.epoch % Math.max(1, Math.round(epochs / 20)) === 0 || e.epoch + 1 === epochs) bar?.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)} lr ${e.lr.toExponential(2)}`);
        break;
      case 'heldout':
        bar?.log(heldOutText(e));
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
        taskOptions: o.method.options,
        encoder: o.encoder,
        cache: { dir: resolve(o.cacheDir), name: o.data, size: o.size, pool: o.pool },
        epochs: o.epochs,
        batchSize,
        stepsPerEpoch: o.stepsPerEpoch,
        // unset fields stay unset: runPretext fills the method's lr (Method.lr) or OptimizerConfig's defaults
        optimizer: { name: o.optimizer, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, trustCoefficient: o.trustCoefficient },
        schedule: scheduleOf(o),
        seed: o.seed,
        init: o.init === 'random' ? 'random' : resolve(o.init),
        workers: o.workers,
        heldOutEvery: o.heldOutEvery,
        checkpointEvery: o.checkpointEvery,
        checkpointMinutes: o.checkpointMinutes,
        render: o.render,
      },
      { runDir, engine, resume: o.resume, signal: stop.signal, onEvent, loggers: o.logger, method: o.method },
    ));
  } finally {
    bar?.stop();
    await engine.close();
  }
  if (interrupted) {
    const by = stop.received ?? 'SIGINT';
    throw new InterruptedError(`stopped by ${signalName(by)}; checkpoint ${lastCheckpoint} kept (no encoder.onnx yet). Continue with:\n  ${resumeCommand()}`, exitCodeOf(by));
  }
  return runDir;
}

/**
 * Ctrl-C, and what clusters and containers send before they kill (SIGTERM: `timeout`, `docker stop`,
 * SLURM at the time limit; SIGUSR1: SLURM's `--signal=USR1@90`, docs/MULTI-NODE.md), all mean the
 * same: finish the step, write a checkpoint, print the resume command, exit 128 + the signal's number.
 * A second Ctrl-C quits at once; a second SIGTERM (a scheduler repeating itself) does not cut the
 * checkpoint short.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGUSR1'] as const;

type Stop = { signal: AbortSignal; received: NodeJS.Signals | undefined; release(): void };

function stopOnSignals(): Stop {
  const abort = new AbortController();
  const state = {
    signal: abort.signal,
    received: undefined as NodeJS.Signals | undefined,
    release: () => {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    },
  };
  function onSignal(sig: NodeJS.Signals) {
    if (abort.signal.aborted) {
      if (sig === 'SIGINT') process.exit(exitCodeOf(sig));
      return;
    }
    state.received = sig;
    process.stderr.write(`\n${signalName(sig)}: stopping at the next step and writing a checkpoint${sig === 'SIGINT' ? ' (Ctrl-C again to quit at once)' : ''}\n`);
    abort.abort();
  }
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return state;
}

const signalName = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 'Ctrl-C' : sig);
/** 128 + the signal's number, as a shell reports a command a signal stopped (130 for Ctrl-C, 143 for SIGTERM) */
const exitCodeOf = (sig: NodeJS.Signals) => 128 + (osConstants.signals[sig] ?? 2);

export const pretext = defineCommand({
  name: 'pretext',
  summary: `Pretrain an encoder with a self-supervised method (${Object.keys(METHODS).join(' | ')})`,
  schema: PretextOptions,
  async run(o) {
    const runDir = await runPretextCommand(o);
    if (!nodesOf(o)?.rank) console.log(join(runDir, 'encoder.onnx')); // the other nodes write nothing
  },
});
