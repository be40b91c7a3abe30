import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { jsonErrorWithoutText, writeFileAtomic } from '@cxr-ssl/atomic';
import { createEpochStream } from '@cxr-ssl/data';
import { type EncoderSpec, encoderSpec, encoderWeightsShapes, type HeadSpec, initWeights, projectorWidths, readSafetensors, writeSafetensors, type Weights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { readLatestCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.ts';
import { heldOutInterval, PretextConfig } from './config.ts';
import type { Engine, StepResult } from './engine.ts';
import { RUN_EXPORT_DIR } from './export/target.ts';
import { writeHubExport } from './export/hub.ts';
import { type LoggerName, LoggerOption, openLoggers } from './loggers/index.ts';
import { type HeldOutLine, type MetricsLine, MetricsLog } from './metrics-log.ts';
import { type HealthNote, RunHealth } from './run-health.ts';
import { lockRunFolder } from './run-lock.ts';
import { heldOutOfRun, openRunData } from './run-data.ts';
import { type Renderer, resolveRenderer } from './render.ts';
import { lrAt, warmupSteps } from './schedule.ts';
import { checkMethod, type MethodRun, runMethod, runProblem, withMethodLr } from './method-options.ts';

/** Wall seconds of a run's phases: engine start, training steps, held-out passes, checkpoint writing, encoder export. */
export type PhaseSeconds = { init: number; steps: number; heldOut: number; checkpoints: number; export: number };

export type PretextEvent =
  /** cleared: a sign reported earlier has gone (run-health.ts) */
  | { type: 'warning'; message: string; cleared?: boolean }
  | { type: 'start'; epochs: number; stepsPerEpoch: number; resumedFrom?: CheckpointState; engine: string; device: string; renderer: Renderer }
  | { type: 'step'; epoch: number; batch: number; step: number; loss: number; accuracy: number; lr: number; samplesPerSec: number }
  | { type: 'epoch'; epoch: number; loss: number; accuracy: number; lr: number }
  | ({ type: 'heldout' } & HeldOutLine)
  | { type: 'checkpoint'; dir: string; reason: 'interval' | 'end' | 'interrupt' }
  | { type: 'done'; encoderOnnx: string; encoderWeights: string; exportDir: string; seconds: PhaseSeconds };

export interface RunPretextOptions {
  runDir: string;
  engine: Engine;
  /** continue from the run folder's latest checkpoint */
  resume?: boolean;
  /** stop at the next step boundary, leaving a resumable checkpoint */
  signal?: AbortSignal;
  onEvent?: (e: PretextEvent) => void;
  /** TensorBoard / CSV beside metrics.jsonl (default: LoggerOption's) */
  loggers?: LoggerName[];
  /**
   * The config's method, already parsed by the caller (the CLI's usage check): its options are the
   * run's (config.taskOptions is not parsed again). Without it the config's options are parsed here.
   */
  method?: MethodRun;
}

export class NonFiniteLossError extends Error {}

/** interrupted: stopped by the signal, with a resumable checkpoint and no encoder yet */
export type PretextOutcome = { runDir: string; interrupted: boolean };

/** Encoder-only weights: what a pretext run hands to evaluation (head and loss state are the method's). */
export function encoderWeights(weights: Weights, encoder: EncoderSpec): Weights {
  const names = new Set(encoderWeightsShapes(encoder).map((w) => w.name));
  return new Map([...weights].filter(([name]) => names.has(name)));
}

/** A run folder's config.json, named in the error when it cannot be read. */
function readRunConfig(path: string): PretextConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read it as JSON (${jsonErrorWithoutText(e)}); it records how this run was started: restore it, or start over under a new --run name`);
  }
  const parsed = PretextConfig.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: not a run configuration (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); start over under a new --run name`);
  return parsed.data;
}

export function configHash(cfg: PretextConfig): string {
  return createHash('sha256').update(JSON.stringify(cfg)).digest('hex').slice(0, 16);
}

/**
 * Pretext training: data -> sampler batches (worker pool) -> engine, SGD with the run's lr
 * schedule (a pure function of the step), held-out passes with the collapse measure and checkpoints
 * every so many steps (config.ts), resume and a final encoder export.
 */
export async function runPretext(rawConfig: unknown, opts: RunPretextOptions): Promise<PretextOutcome> {
  const given = PretextConfig.parse(withMethodLr(rawConfig));
  const { runDir, engine, onEvent = () => {} } = opts;
  // everything that can be checked without training is checked before the run folder exists;
  // the method's options are parsed once per run, here or by the caller
  const at = { size: given.cache.size, engine: engine.name, encoder: given.encoder };
  if (opts.method && opts.method.name !== given.task) throw new Error(`runPretext: the method given (${opts.method.name}) is not the config's task (${given.task})`);
  const checked = opts.method ? { run: opts.method, problem: runProblem(opts.method, at) } : checkMethod(given.task, given.taskOptions, at);
  if (checked.problem !== undefined) throw new Error(checked.problem);
  const { run: method } = checked;
  const cfg = { ...given, taskOptions: method.options }; // config.json records every option, defaults filled in
  openRunData(cfg.cache); // the set (each set of a pool) exists and is whole
  // a multi-node run's other machines train but write nothing: the run folder is global rank 0's
  const writes = engine.writesRun !== false;
  if (!writes) return await trainInFolder(cfg, method, opts, false);
  mkdirSync(runDir, { recursive: true });
  const release = lockRunFolder(runDir, (message) => onEvent({ type: 'warning', message }));
  try {
    return await trainInFolder(cfg, method, opts, true);
  } finally {
    release();
  }
}

/** runPretext once the run folder is ours alone (`writes` false: a node other than 0 of a multi-node run). */
async function trainInFolder(cfg: PretextConfig, parsed: MethodRun, opts: RunPretextOptions, writes: boolean): Promise<PretextOutcome> {
  const { runDir, engine, onEvent = () => {} } = opts;
  const hash = configHash(cfg);
  const configPath = join(runDir, 'config.json');
  if (existsSync(configPath) && opts.resume) {
    // both record every method option, defaults filled in: compared as written, not parsed again
    if (configHash(readRunConfig(configPath)) !== hash) {
      throw new Error(`${configPath}: this run was started with a different configuration; resume it with the same options or use a new --run name`);
    }
  } else if (existsSync(join(runDir, 'checkpoints', 'latest.json')) && !opts.resume) {
    throw new Error(`${runDir} already holds a trained run: pass --resume to continue it, or choose another --run name`);
  }
  if (writes) writeFileAtomic(configPath, JSON.stringify(cfg, null, 2));

  const data = openRunData(cfg.cache); // its set, or the sets of a pool (run-data.ts)
  const method = runMethod(cfg, runDir, parsed); // its seeded parts fixed in the run folder; typed from here on
  const encoder = encoderSpec(cfg.encoder);
  const head = method.head(encoder);

  const trainIdx = data.sets.flatMap((s) => s.train);
  if (trainIdx.length < cfg.batchSize) {
    throw new Error(`the train split of ${cfg.cache.name}-${cfg.cache.size} has ${trainIdx.length} images, fewer than one batch of ${cfg.batchSize}: lower --batch-size`);
  }
  const caution = method.caution({ trainImages: trainIdx.length, batchSize: cfg.batchSize });
  if (caution) onEvent({ type: 'warning', message: caution });
  const fullSteps = Math.floor(trainIdx.length / cfg.batchSize);
  const stepsPerEpoch = Math.min(fullSteps, cfg.stepsPerEpoch ?? fullSteps);
  // sampling threads pay off only with cores to spare beside the engine (measured: on 2 cores the
  // in-process stream is faster than one worker); 0 = sample in this thread
  const cores = availableParallelism();
  const workers = cfg.workers ?? (cores >= 4 ? Math.min(8, cores - 2) : 0);
  const metrics = writes ? new MetricsLog(join(runDir, 'metrics.jsonl')) : undefined;
  const loggers = writes ? openLoggers(runDir, opts.loggers ?? LoggerOption.parse(undefined)) : undefined;

  const ckpt = opts.resume ? readLatestCheckpoint(runDir) : undefined;
  let weights: Weights;
  if (ckpt) {
    weights = ckpt.weights;
    metrics?.truncateAfter(ckpt.state.step);
    loggers?.resumeAt(ckpt.state.step);
  } else {
    weights = startWeights(cfg, encoder, head);
  }
  const seconds: PhaseSeconds = { init: 0, steps: 0, heldOut: 0, checkpoints: 0, export: 0 };
  const initStart = performance.now();
  await engine.init({ encoder, head, weights, optimizer: cfg.optimizer, optimizerState: ckpt?.optimizer, loss: method.loss, seed: cfg.seed, startStep: ckpt?.state.step ?? 0, encodes: method.encodes(cfg.cache.size) });
  seconds.init = (performance.now() - initStart) / 1000;
  const renderer = resolveRenderer(cfg.render, engine);
  onEvent({ type: 'start', epochs: cfg.epochs, stepsPerEpoch, resumedFrom: ckpt?.state, engine: engine.name, device: engine.device, renderer });
  // config.json holds the options as given (render: auto); what they resolved to on this machine, per start or resume
  metrics?.append({ kind: 'start', step: ckpt?.state.step ?? 0, epoch: ckpt?.state.epoch ?? 0, engine: engine.name, device: engine.device, renderer, resumed: ckpt !== undefined });

  let step = ckpt?.state.step ?? 0;
  const totalSteps = cfg.epochs * stepsPerEpoch;
  const lrOf = (s: number) => lrAt(cfg.optimizer.lr, cfg.schedule, s, stepsPerEpoch, totalSteps);
  const scalarsOf = (s: number) => method.scalarsAt(s, totalSteps, lrOf(s));
  const streamOpts = { cache: data.source, task: cfg.task, samplerOptions: method.samplerOptions, batchSize: cfg.batchSize, workers, paint: renderer === 'typescript' };
  const log = (line: MetricsLine) => {
    metrics?.append(line);
    loggers?.write(line);
  };
  // where training stands after the last settled step: (epoch, next batch), an epoch's end as the next one's start
  let at = { epoch: ckpt?.state.epoch ?? 0, batch: ckpt?.state.batch ?? 0 };
  const position = () => (at.batch === stepsPerEpoch ? { epoch: at.epoch + 1, batch: 0 } : at);
  const health = new RunHealth(method, { batchSize: cfg.batchSize, warmup: warmupSteps(cfg.schedule, stepsPerEpoch, totalSteps), stepsPerEpoch });
  const note = (n: HealthNote) => {
    metrics?.append({ kind: 'warning', step, epoch: at.epoch, warning: n.kind, cleared: n.cleared, message: n.message });
    onEvent({ type: 'warning', message: n.message, cleared: n.cleared });
  };

  const heldOutEvery = heldOutInterval(cfg, stepsPerEpoch, totalSteps);
  const headPart = head.kind === 'projector' ? projectorWidths(encoder.features, head).parts[0] : 0;
  let heldOutAt = ckpt?.state.step ?? -1; // a checkpoint's step had its held-out pass before the checkpoint
  const heldOut = async () => {
    heldOutAt = step;
    if (!writes) return; // the other machines of a multi-node run log nothing
    const t = performance.now();
    // a pool's sets each on their own val images, the collapse measure over all of them (run-data.ts)
    const val = await heldOutOfRun(engine, data, { ...streamOpts, samplerOptions: method.heldOutSamplerOptions, seed: cfg.seed + 1, candidates: (b) => method.candidates(b, true), collapse: { headPart } });
    seconds.heldOut += (performance.now() - t) / 1000;
    if (!val) return; // no set has val images
    const c = val.collapse;
    const line = { step, epoch: at.epoch, valLoss: val.loss, valAccuracy: val.accuracy, valChance: val.chance, valSpread: c?.embedding.spread, valRank: c?.embedding.rank, ...(headPart > 0 && c ? { valEncoderSpread: c.encoder.spread, valEncoderRank: c.encoder.rank } : {}), ...(val.bySet ? { valBySource: val.bySet } : {}) };
    log({ kind: 'heldout', ...line });
    onEvent({ type: 'heldout', ...line });
    for (const n of health.afterHeldOut(step, val)) note(n);
  };

  // a checkpoint is asked for at a step boundary with no step pending (so it holds exactly `step`
  // updates) and written to disk while the next steps train; the next checkpoint, the export and the
  // way out wait for it
  let saving: Promise<void> = Promise.resolve();
  let saved = { step: ckpt?.state.step ?? 0, at: performance.now() };
  const checkpoint = (reason: 'interval' | 'end' | 'interrupt') => {
    if (!writes) return;
    saved = { step, at: performance.now() };
    const state: CheckpointState = { version: 1, ...position(), step, configHash: hash, engine: engine.name, created: new Date().toISOString() };
    const snapshot = engine.state(); // the engines take it at the call: later steps do not change it
    const previous = saving;
    saving = (async () => {
      await previous;
      const st = await snapshot;
      const t = performance.now();
      const dir = writeCheckpoint(runDir, state, st.weights, st.optimizer);
      seconds.checkpoints += (performance.now() - t) / 1000;
      onEvent({ type: 'checkpoint', dir, reason });
    })();
    saving.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
  };
  const waitForSaving = async () => {
    const t = performance.now();
    await saving;
    seconds.checkpoints += (performance.now() - t) / 1000;
  };

  const pending: { promise: Promise<StepResult>; size: number; lr: number; epoch: number }[] = [];
  let sums = { loss: 0, accuracy: 0, seen: 0 };
  let t0 = performance.now();
  let samplesSince = 0;
  const settle = async () => {
    const { promise, size, lr, epoch } = pending.shift()!;
    const r = await promise;
    step++;
    at = { epoch, batch: at.epoch === epoch ? at.batch + 1 : 1 };
    const batch = at.batch;
    if (!Number.isFinite(r.loss)) {
      const kept = saved.step > 0 ? `the last good checkpoint (step ${saved.step}) is kept in ${join(runDir, 'checkpoints')}` : 'no checkpoint was written before it';
      throw new NonFiniteLossError(`loss became ${r.loss} at step ${step} (epoch ${epoch + 1}, batch ${batch}); ${kept}. Try a lower learning rate (--lr ${cfg.optimizer.lr / 10}).`);
    }
    sums = { loss: sums.loss + r.loss, accuracy: sums.accuracy + r.accuracy, seen: sums.seen + 1 };
    health.trainLoss(step, r.loss);
    samplesSince += size;
    if (step % cfg.logEvery === 0 || batch === stepsPerEpoch) {
      const now = performance.now();
      const samplesPerSec = (samplesSince * 1000) / Math.max(1, now - t0);
      t0 = now;
      samplesSince = 0;
      log({ kind: 'step', step, epoch, batch, loss: r.loss, accuracy: r.accuracy, lr, samplesPerSec });
      onEvent({ type: 'step', epoch, batch, step, loss: r.loss, accuracy: r.accuracy, lr, samplesPerSec });
    }
    if (batch === stepsPerEpoch) {
      const line = { epoch, loss: sums.loss / Math.max(1, sums.seen), accuracy: sums.accuracy / Math.max(1, sums.seen), lr: lrOf(Math.max(0, step - 1)) };
      log({ kind: 'epoch', step, ...line });
      onEvent({ type: 'epoch', ...line });
      sums = { loss: 0, accuracy: 0, seen: 0 };
    }
  };
  const drain = async () => {
    while (pending.length > 0) await settle();
  };
  // held-out passes and checkpoints come between steps, never every step of a short epoch (issue 28)
  const bookkeeping = async () => {
    const sent = step + pending.length;
    const heldOutDue = sent % heldOutEvery === 0 && sent !== heldOutAt;
    const checkpointDue = writes && sent > saved.step && ((cfg.checkpointEvery !== undefined && sent % cfg.checkpointEvery === 0) || performance.now() - saved.at >= cfg.checkpointMinutes * 60_000);
    if (!heldOutDue && !checkpointDue) return;
    await drain();
    if (heldOutDue) await heldOut();
    if (checkpointDue) checkpoint('interval');
  };

  const loopStart = performance.now();
  const startAt = position();
  let interrupted = false;
  try {
    // one queue over the epochs: the sampling threads run ahead across an epoch's end
    const stream = createEpochStream({ ...streamOpts, indicesOf: (e) => data.epochIndices(cfg.seed, e), seed: cfg.seed, from: startAt, epochs: cfg.epochs, batches: stepsPerEpoch });
    try {
      for await (const { epoch, batch: b } of stream) {
        if (step + pending.length > 0) await bookkeeping();
        const scalars = scalarsOf(step + pending.length); // the update this batch makes
        pending.push({ promise: engine.trainStep(b, scalars), size: b.shape[0], lr: scalars.lr, epoch });
        if (pending.length >= (engine.inFlight ?? 1)) await settle();
        // an in-process engine and sampler never leave the microtask queue: yield to the event
        // loop once per step, or a Ctrl-C handler (and any timer) waits for the end of the run
        await new Promise(setImmediate);
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
      await drain();
    } finally {
      await stream.return(undefined);
    }
  } finally {
    await saving.catch(() => {}); // a checkpoint being written is finished, whatever stopped the run
  }
  if (interrupted && step < totalSteps) {
    seconds.steps = (performance.now() - loopStart) / 1000 - seconds.heldOut - seconds.checkpoints;
    checkpoint('interrupt');
    await waitForSaving();
    return { runDir, interrupted: true };
  }
  if (heldOutAt !== step) await heldOut();
  if (saved.step !== step) checkpoint('end');
  await waitForSaving();
  seconds.steps = (performance.now() - loopStart) / 1000 - seconds.heldOut - seconds.checkpoints;

  if (!writes) return { runDir, interrupted: false };
  const exportStart = performance.now();
  const { weights: finalWeights } = await engine.state();
  const enc = encoderWeights(finalWeights, encoder);
  const weightsPath = join(runDir, 'encoder.safetensors');
  writeSafetensors(weightsPath, enc, { encoder: cfg.encoder, task: cfg.task });
  const onnxPath = join(runDir, 'encoder.onnx');
  writeFileAtomic(onnxPath, encoderOnnx(encoder, enc));
  // the hub-like folder people take away (torch state dict, config with the input scaling, card)
  const exportDir = writeHubExport(join(runDir, RUN_EXPORT_DIR), { spec: encoder, weights: enc, run: cfg, steps: step, runDir, trainImages: trainIdx.length }).dir;
  seconds.export = (performance.now() - exportStart) / 1000;
  metrics?.append({ kind: 'timing', step, epoch: at.epoch, ...seconds });
  onEvent({ type: 'done', encoderOnnx: onnxPath, encoderWeights: weightsPath, exportDir, seconds });
  return { runDir, interrupted: false };
}

/** A fresh run's weights: the seeded initialisation, with the encoder's replaced by cfg.init's (unless 'random'). */
export function startWeights(cfg: Pick<PretextConfig, 'init' | 'encoder' | 'seed'>, encoder: EncoderSpec, head: HeadSpec): Weights {
  const weights = initWeights(encoder, head, cfg.seed);
  if (cfg.init === 'random') return weights;
  const init = readSafetensors(cfg.init);
  // weights name the encoder they were made for: same shapes can still mean another input scaling
  const made = init.metadata.encoder;
  if (made && made !== cfg.encoder) {
    throw new Error(`${cfg.init} holds weights for encoder ${made}, not ${cfg.encoder}: run with --encoder ${made}`);
  }
  for (const [name, t] of init.weights) {
    const want = weights.get(name);
    if (!want) continue; // e.g. an ImageNet classifier: not part of our encoder
    if (want.shape.join('x') !== t.shape.join('x')) {
      throw new Error(`${cfg.init}: ${name} has shape ${t.shape.join('x')}, ${cfg.encoder} needs ${want.shape.join('x')}; import the weights for this encoder with cxr-ssl import-weights`);
    }
    weights.set(name, t);
  }
  return weights;
}
