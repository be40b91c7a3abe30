import { ENCODERS } from '@cxr-ssl/models';
import { checkMethod, DEFAULT_WARMUP_FRACTION, EngineOption, LoggerOption, METHODS, OptimizerConfig, PRETEXT_DEFAULTS, RenderOption, SCHEDULES, Schedule } from '@cxr-ssl/train';
import { z } from 'zod';
import { arg, toggle } from './command.ts';
import { DEFAULT_MASTER_PORT } from './nodes.ts';
import { dataArg, dataSets } from './pool-data.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_DATA, DEFAULT_RUNS_DIR, DEFAULT_SIZE, flag, int, num, pathName, pythonOption, quietOption } from './options.ts';

/** Every training default is train's (`PretextConfig`, `OptimizerConfig`, `Schedule`): read here, written there once. */
const DEFAULTS = PRETEXT_DEFAULTS;
const COSINE = Schedule.parse({ name: 'cosine' }) as Extract<Schedule, { name: 'cosine' }>;
const methodName = z.enum(Object.keys(METHODS) as [string, ...string[]]);

/**
 * How a pretext run trains: `pretext`'s flags and, the same schema, the `pretext:` block of a
 * `reproduce` config. A field added here is both. A field without a default here is one that
 * applies to one choice only (--decay, --min-lr...) or whose default is worked out at run time.
 */
export const TrainingFields = z.object({
  epochs: int().positive().default(DEFAULTS.epochs).meta(arg('<n>', 'epochs, as in the study')),
  batchSize: int().positive().default(DEFAULTS.batchSize).meta(arg('<n>', 'batch size')),
  stepsPerEpoch: int().positive().optional().meta(arg('<n>', 'cap the steps of an epoch (quick runs)')),
  /** unset: the method's own (Method.lr), else OptimizerConfig's; runPretext fills it (train withMethodLr) */
  lr: num()
    .positive()
    .optional()
    .meta(arg('<f>', `(peak) learning rate (default: the method's own where it has one, ${methodLrText()}; else ${DEFAULTS.optimizer.lr}); the study: 0.001 from ImageNet weights`)),
  momentum: num().min(0).max(1).default(DEFAULTS.optimizer.momentum).meta(arg('<f>', 'SGD momentum')),
  optimizer: OptimizerConfig.shape.name.meta(arg('<name>', 'the optimiser; lars: a layer-wise trust ratio, for large contrastive batches')),
  trustCoefficient: num().positive().optional().meta(arg('<f>', `lars: eta (default ${DEFAULTS.optimizer.trustCoefficient})`)),
  schedule: z.enum(SCHEDULES).default(DEFAULTS.schedule.name).meta(arg('<name>', 'lr schedule; cosine: linear warm-up, then half cosine; step: x decay per epoch; inverse-time: Keras, lr / (1 + decay t)')),
  decay: num().positive().optional().meta(arg('<f>', 'step: lr factor per epoch; inverse-time: decay per step')),
  warmup: int().nonnegative().optional().meta(arg('<steps>', `cosine: warm-up steps (default ${100 * DEFAULT_WARMUP_FRACTION}% of all steps)`)),
  warmupEpochs: num().nonnegative().optional().meta(arg('<n>', 'cosine: warm-up in epochs instead of steps')),
  minLr: num().nonnegative().optional().meta(arg('<f>', `cosine: the lr it ends at (default ${COSINE.minLr})`)),
  weightDecay: num().min(0).default(DEFAULTS.optimizer.weightDecay).meta(arg('<f>', 'L2 weight decay')),
  /** 'none' turns the method's default augmentations off (taskOptions.augment gives a list of your own) */
  augment: z.enum(['default', 'none']).default('default').meta(arg('<which>', "the method's default augmentations (docs/AUGMENTATIONS.md), or none")),
  engine: EngineOption.meta(arg('<name>', "the engine; auto: the first of the method's engines available here (torch when a Python can import it, else tfjs where the method has it)")),
  python: pythonOption(),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto').meta(arg('<name>', "the torch engine's device")),
  threads: int().positive().optional().meta(arg('<n>', 'torch CPU threads (default: every core under 4 cores, else cores - 1, one left to the sampling threads; divided over the processes with --gpus; fewer on a busy machine)')),
  /** data-parallel torch processes (DDP), one per GPU; the batch is split evenly over them */
  gpus: int().positive().optional().meta(arg('<n>', 'torch engine: n data-parallel processes (DDP, one per GPU, SyncBatchNorm; gloo on CPU); the batch is split evenly')),
  compile: flag().default(false).meta(toggle('torch engine: torch.compile the model')),
  /** train even when the torch engine's memory estimate says the step does not fit (train/src/engines/torch-fit.ts) */
  ignoreMemoryEstimate: flag().default(false).meta(toggle("torch engine: train even when the step's estimated peak memory is above what this machine (or GPU) has")),
  workers: int().nonnegative().optional().meta(arg('<n>', 'batch-sampling worker threads, 0 = in-process (default: cores - 2 from 4 cores up, else 0)')),
  heldOutEvery: int()
    .positive()
    .optional()
    .meta(arg('<n>', "a held-out pass (the method's metric with its chance level, and the collapse measure) every n steps and at the end (default: every epoch, at least 10 steps apart, at most 20 a run)")),
  checkpointEvery: int().positive().optional().meta(arg('<n>', 'a checkpoint every n steps (default: by time, --checkpoint-minutes); always at the end and on Ctrl-C, SIGTERM, SIGUSR1')),
  checkpointMinutes: num().positive().default(DEFAULTS.checkpointMinutes).meta(arg('<m>', 'a checkpoint once m minutes have passed since the last one')),
  /** who paints the augmented views (train/src/render.ts, docs/RENDERING.md) */
  render: RenderOption.meta(arg('<who>', 'who paints the augmented views; auto: torch where the engine computes on a GPU, else typescript; typescript: the sampling threads; torch: the engine, on its device (docs/RENDERING.md)')),
  logger: LoggerOption.meta(arg('<names>', 'training curves beside metrics.jsonl while it runs: tensorboard,csv (`tensorboard --logdir runs`) | tensorboard | csv | none')),
});
export type TrainingSettings = z.infer<typeof TrainingFields>;

/** "simclr 0.01": the methods whose lr default is their own. */
function methodLrText(): string {
  return Object.entries(METHODS)
    .flatMap(([name, m]) => (m.lr === undefined ? [] : [`${name} ${m.lr}`]))
    .join(', ');
}

type Issues = { addIssue(issue: { code: 'custom'; path: string[]; message: string }): void };

/** Settings that do not fit together: checked for `pretext`'s flags and a reproduce config alike, before any work. */
export function trainingProblems(o: TrainingSettings, ctx: Issues, method?: string): void {
  if (o.trustCoefficient !== undefined && o.optimizer !== 'lars') {
    ctx.addIssue({ code: 'custom', path: ['trustCoefficient'], message: `--trust-coefficient applies to --optimizer lars, not ${o.optimizer}: drop it or pass --optimizer lars` });
  }
  for (const [path, message] of scheduleProblems({ ...o, lr: o.lr ?? (method ? METHODS[method]?.lr : undefined) ?? DEFAULTS.optimizer.lr })) ctx.addIssue({ code: 'custom', path: [path], message });
  if (o.gpus && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['gpus'], message: '--gpus needs the torch engine (--engine torch or auto)' });
  if (o.render === 'torch' && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['render'], message: '--render torch needs the torch engine (--engine torch or auto); tfjs paints with TypeScript' });
}

const PretextFields = z
  .object({
    /** the method; --task is its older name, kept for the study's three pretext tasks */
    method: methodName.optional().meta(arg('<name>', 'the method (docs/METHODS.md)')),
    task: methodName.optional().meta(arg('<name>', "the older name of --method (the study's three pretext tasks)")),
    encoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default(DEFAULTS.encoder).meta(arg('<name>', 'the encoder (docs/ENCODERS.md)')),
    data: dataArg().default(DEFAULT_DATA).meta(arg('<names>', 'prepared data set name; several, comma-separated, are pooled (name:weight: its share of an epoch)')),
    size: int().min(16).default(DEFAULT_SIZE).meta(arg('<px>', 'image size of the prepared set to use')),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR).meta(arg('<dir>', 'dataset cache folder')),
    ...TrainingFields.shape,
    seed: int().nonnegative().default(DEFAULTS.seed).meta(arg('<n>', 'seed of init, sampling and shuffling')),
    init: z.string().default(DEFAULTS.init).meta(arg('<file>', "'random' or a safetensors file of canonical encoder weights (e.g. ImageNet)")),
    /** the method's options (a config file's); --set and --augment are folded over them */
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    /** method options as key=value (JSON values where they parse), folded over taskOptions */
    set: z
      .array(z.string().regex(/^\w+=/, 'give key=value, e.g. --set temperature=0.1'))
      .default([])
      .meta(arg('<key=value...>', "method options by name, as the method's schema has them (docs/METHODS.md), e.g. --set temperature=0.1")),
    run: pathName().optional().meta(arg('<name>', 'run folder name under --runs-dir (default <task>-<encoder>-<data>-<size>)')),
    runsDir: z.string().default(DEFAULT_RUNS_DIR).meta(arg('<dir>', 'where run folders live')),
    /** several machines (docs/MULTI-NODE.md); unset: from torchrun's or srun's environment, else one machine */
    nnodes: int().positive().optional().meta(arg('<n>', 'torch engine: machines of one run, each starting its --gpus ranks (docs/MULTI-NODE.md; default: from torchrun / srun, else 1)')),
    nodeRank: int().nonnegative().optional().meta(arg('<j>', "this machine's index, 0 to nnodes - 1; node 0 serves the rendezvous and writes the run folder")),
    masterAddr: z.string().min(1).optional().meta(arg('<host>', 'node 0, reachable from every node (default: env MASTER_ADDR)')),
    masterPort: int().min(1).max(65535).optional().meta(arg('<port>', `node 0's rendezvous port (default: env MASTER_PORT, else ${DEFAULT_MASTER_PORT})`)),
    resume: flag().default(false).meta(toggle("continue the run folder's latest checkpoint")),
    quiet: quietOption(),
  })
  .strict();

/**
 * `pretext`'s options, and the one parse of the method's: the output's `method` is the parsed
 * method (train's MethodRun), checked at the run's size, encoder and engine, which the run then
 * uses as it is; `task` is its name.
 */
export const PretextOptions = PretextFields.superRefine((o, ctx) => {
  if (o.method && o.task && o.method !== o.task) {
    ctx.addIssue({ code: 'custom', path: ['method'], message: `give --method (or its older name --task), not both: --method ${o.method} and --task ${o.task} disagree` });
  } else if (!o.method && !o.task) {
    ctx.addIssue({ code: 'custom', path: ['method'], message: `give --method (or its older name --task): ${Object.keys(METHODS).join(' | ')}` });
  }
  trainingProblems(o, ctx, o.method ?? o.task);
  if (o.nnodes && o.engine === 'tfjs') ctx.addIssue({ code: 'custom', path: ['nnodes'], message: '--nnodes needs the torch engine (--engine torch or auto)' });
  if (o.nnodes !== undefined && o.nodeRank !== undefined && o.nodeRank >= o.nnodes) ctx.addIssue({ code: 'custom', path: ['nodeRank'], message: `must be below --nnodes ${o.nnodes}` });
}).transform(({ method, task, ...o }, ctx) => {
  const name = (method ?? task)!;
  // e.g. a patch larger than the grid cell: found now, not after the engine started
  const checked = checkMethod(name, taskOptionsOf(o), { size: o.size, engine: o.engine === 'auto' ? undefined : o.engine, encoder: o.encoder });
  if (checked.problem !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['taskOptions'], message: checked.problem, input: o.taskOptions });
    return z.NEVER;
  }
  // several sets: the run's data is named by all ('a+b') and samples the pool (train/src/run-data.ts)
  const sets = dataSets(o.data);
  return { ...o, data: sets.map((d) => d.name).join('+'), pool: sets.length > 1 ? sets : undefined, task: name, method: checked.run };
});
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

export type ScheduleFlags = Pick<TrainingSettings, 'schedule' | 'decay' | 'warmup' | 'warmupEpochs' | 'minLr'>;

/** The flags' schedule (see train/src/schedule.ts; its schema fills in what the flags leave out). */
export function scheduleOf(o: ScheduleFlags): Schedule {
  if (o.schedule === 'cosine') return Schedule.parse({ name: 'cosine', warmupSteps: o.warmup, warmupEpochs: o.warmupEpochs, minLr: o.minLr });
  return { name: o.schedule, decay: o.decay ?? Number.NaN };
}

/** Flags that do not fit the chosen schedule, as [option, message]. */
function scheduleProblems(o: ScheduleFlags & { lr: number }): [string, string][] {
  const out: [string, string][] = [];
  if (o.schedule === 'cosine') {
    if (o.decay !== undefined) out.push(['decay', 'applies to --schedule step | inverse-time, not cosine']);
    if (o.warmup !== undefined && o.warmupEpochs !== undefined) out.push(['warmup', 'give --warmup (steps) or --warmup-epochs, not both']);
    if ((o.minLr ?? COSINE.minLr) >= o.lr) out.push(['minLr', `must be below --lr (${o.lr})`]);
    return out;
  }
  if (o.decay === undefined) {
    out.push(['decay', o.schedule === 'step' ? '--schedule step needs --decay (lr x decay per epoch; the study: 0.9)' : "--schedule inverse-time needs --decay (Keras' decay: lr / (1 + decay t) per step)"]);
  } else if (o.schedule === 'step' && o.decay > 1) out.push(['decay', `--schedule step multiplies lr by decay each epoch: give a value in (0, 1], got ${o.decay}`]);
  for (const k of ['warmup', 'warmupEpochs', 'minLr'] as const) if (o[k] !== undefined) out.push([k, 'applies to --schedule cosine only']);
  return out;
}
