import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import { chooseEngine, type EngineChoice, EngineOption, METHODS, methodProblem, NoEngineError, PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { int, pythonOption, quietOption } from '../options.ts';
import { takeOutputFolder } from '../owned-files.ts';
import { REPORT_FILES } from '../plots.ts';
import { evaluateEncoders, LinearOptions } from './linear.ts';
import { PrepareOptions, runPrepare } from './prepare.ts';
import { PretextOptions } from '../pretext-options.ts';
import { runPretextCommand } from './pretext.ts';

/**
 * Steps per task that fit the demo's budget on 2 CPU cores (measured: torch ~100 s for 50, tfjs-wasm
 * ~280 s for 30) while rotation still reaches >= 90 % held-out.
 */
const STEPS = { torch: 50, tfjs: 30 } as const;

export const DemoOptions = z
  .object({
    dir: z.string().default('runs/demo').meta(arg('<dir>', 'output folder; a rerun replaces only what an earlier demo wrote there')),
    size: int().min(32).default(64).meta(arg('<px>', 'image size')),
    /** optimiser steps per pretext task (at the default batch size); default by engine, see STEPS */
    steps: int().positive().optional().meta(arg('<n>', `pretext optimiser steps per task (default ${STEPS.torch} with torch, ${STEPS.tfjs} with tfjs)`)),
    engine: EngineOption.meta(arg('<name>', 'the engine; auto: for each method, the first of its engines available here; torch when a Python with torch is found')),
    python: pythonOption(),
    seed: int().nonnegative().default(0).meta(arg('<n>', 'seed')),
    quiet: quietOption(),
  })
  .strict();

/** Lists what a demo wrote into --dir, so the next demo removes that and nothing else. */
const DEMO_MARKER = '.cxr-ssl-demo.json';

/** Each method with the engine it trains on here, or why it is skipped (an engine it lacks, no torch). */
function demoEngines(o: z.infer<typeof DemoOptions>): { task: string; choice?: EngineChoice; skipped?: string }[] {
  return Object.entries(METHODS).map(([task, method]) => {
    if (o.engine !== 'auto' && !method.engines.includes(o.engine)) return { task, skipped: `it trains on the ${method.engines.join(' or ')} engine only, not --engine ${o.engine}` };
    try {
      return { task, choice: chooseEngine(o.engine, { engines: method.engines, python: o.python, method: task }) };
    } catch (e) {
      if (e instanceof NoEngineError) return { task, skipped: e.message.replace(`${task} trains`, 'it trains') };
      throw e;
    }
  });
}

/** A method of the plan that cannot run at `size` px (e.g. context's patches too small for the encoder), else undefined. */
function sizeProblem(plan: ReturnType<typeof demoEngines>, size: number): string | undefined {
  for (const { task, choice } of plan) {
    const problem = choice && methodProblem(task, {}, size, choice.name, PRETEXT_DEFAULTS.encoder);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The whole study in miniature on the bundled real X-rays: prepare -> every method at the default
 * training settings (vgg-small-bn, SGD lr 0.05) on the engine `auto` finds for it -> linear
 * evaluation of each encoder and of a random-init one of the same architecture -> results.md / results.json.
 */
export const demo = defineCommand({
  name: 'demo',
  summary: 'Run the whole pipeline on the bundled fixture of real X-rays (its time depends on the machine and the engine: see docs/BENCHMARKS.md)',
  schema: DemoOptions,
  async run(o) {
    const dir = resolve(o.dir);
    const cacheDir = join(dir, 'cache');
    const runsDir = join(dir, 'runs');
    const started = performance.now();
    const plan = demoEngines(o);
    const problem = sizeProblem(plan, o.size);
    if (problem) {
      let fits = o.size;
      while (sizeProblem(plan, fits) && fits < 1024) fits += 16;
      throw new UsageError(`--size ${o.size}: ${problem} (every method of the demo runs from --size ${fits})`);
    }
    // before any work: an earlier demo's runs and results go, anything else in the way is refused
    const folder = takeOutputFolder(dir, DEMO_MARKER, 'demo', [...Object.keys(METHODS).map((t) => `runs/${t}`), ...REPORT_FILES], '--dir');
    for (const { task, skipped } of plan) if (skipped && !o.quiet) process.stderr.write(`note: ${task} skipped: ${skipped}\n`);
    await runPrepare(PrepareOptions.parse({ sizes: [o.size], cacheDir, seed: o.seed, quiet: o.quiet, name: 'kermany-mini' }));
    const cache = openCache(cacheDir, 'kermany-mini', o.size);
    const stepsPerEpoch = Math.max(1, Math.floor(cache.indices('train').length / PRETEXT_DEFAULTS.batchSize));
    cache.close();
    const runs: string[] = [];
    for (const { task, choice } of plan) {
      if (!choice) continue;
      const steps = o.steps ?? STEPS[choice.name];
      const opts = PretextOptions.parse({
        task,
        data: 'kermany-mini',
        size: o.size,
        cacheDir,
        runsDir,
        epochs: Math.ceil(steps / stepsPerEpoch),
        seed: o.seed,
        engine: o.engine,
        python: o.python,
        quiet: o.quiet,
        run: task,
        resume: false,
      });
      folder.claim([`runs/${task}`]);
      runs.push(await runPretextCommand(opts));
    }
    folder.claim(REPORT_FILES);
    await evaluateEncoders(LinearOptions.parse({ encoders: [...runs, 'random'], data: 'kermany-mini', size: o.size, cacheDir, runsDir, out: dir, seed: o.seed, quiet: o.quiet }));
    console.log(readFileSync(join(dir, 'results.md'), 'utf8'));
    console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${dir}`);
  },
});
