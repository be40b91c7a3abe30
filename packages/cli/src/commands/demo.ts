import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import { chooseEngine, type EngineChoice, EngineOption, METHODS, methodProblem, NoEngineError, PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { z } from 'zod';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { arg, defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { int, pythonOption, quietOption } from '../options.ts';
import { takeOutputFolder } from '../owned-files.ts';
import { REPORT_FILES, runCurves } from '../plots.ts';
import { pretextSummary, pretextSummaryMarkdown, timeMarkdown } from '../pretext-summary.ts';
import { evaluateEncoders, LinearOptions } from './linear.ts';
import { PrepareOptions, runPrepare } from './prepare.ts';
import { PretextOptions } from '../pretext-options.ts';
import { runPretextCommand } from './pretext.ts';

/**
 * Steps per method that fit the demo's budget, 300 s on 2 CPU cores for all seven with torch (docs/DEMO.md
 * has the measurements and the breakdown).
 */
const STEPS = { torch: 20, tfjs: 15 } as const;

export const DemoOptions = z
  .object({
    dir: z.string().default('runs/demo').meta(arg('<dir>', 'output folder; a rerun replaces only what an earlier demo wrote there')),
    size: int().min(32).default(64).meta(arg('<px>', 'image size')),
    /** optimiser steps per pretext task (at the default batch size); default by engine, see STEPS */
    steps: int().positive().optional().meta(arg('<n>', `pretext optimiser steps per method (default ${STEPS.torch} with torch, ${STEPS.tfjs} with tfjs; a few methods take their own, docs/DEMO.md)`)),
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
 * The whole study in miniature on the bundled real X-rays: prepare -> every method on the engine `auto`
 * finds for it, at the default training settings but for its demo ones (Method.demo) -> linear
 * evaluation of each encoder and of a random-init one of the same architecture -> results.md (with the
 * pretext table: does each method learn, has it collapsed), results.json, pretext-curves.png, time.md
 * (where the time went).
 */
export const demo = defineCommand({
  name: 'demo',
  summary: 'Run the whole pipeline on the bundled fixture of real X-rays: does each method learn (docs/DEMO.md); its time depends on the machine and the engine (docs/BENCHMARKS.md)',
  schema: DemoOptions,
  async run(o) {
    const dir = resolve(o.dir);
    const cacheDir = join(dir, 'cache');
    const runsDir = join(dir, 'runs');
    const started = performance.now();
    // wall seconds per phase: prepare, each method's run, evaluation with its report (docs/DEMO.md)
    const seconds: Record<string, number> = {};
    let current: { name: string; at: number } | undefined;
    const phase = (name?: string) => {
      if (current) seconds[current.name] = (performance.now() - current.at) / 1000;
      current = name ? { name, at: performance.now() } : undefined;
    };
    const plan = demoEngines(o);
    const problem = sizeProblem(plan, o.size);
    if (problem) {
      let fits = o.size;
      while (sizeProblem(plan, fits) && fits < 1024) fits += 16;
      throw new UsageError(`--size ${o.size}: ${problem} (every method of the demo runs from --size ${fits})`);
    }
    // before any work: an earlier demo's runs and results go, anything else in the way is refused
    const folder = takeOutputFolder(dir, DEMO_MARKER, 'demo', [...Object.keys(METHODS).map((t) => `runs/${t}`), ...REPORT_FILES, 'time.md'], '--dir');
    for (const { task, skipped } of plan) if (skipped && !o.quiet) process.stderr.write(`note: ${task} skipped: ${skipped}\n`);
    phase('prepare');
    await runPrepare(PrepareOptions.parse({ sizes: [o.size], cacheDir, seed: o.seed, quiet: o.quiet, name: 'kermany-mini' }));
    const cache = openCache(cacheDir, 'kermany-mini', o.size);
    const trainImages = cache.indices('train').length;
    const stepsPerEpoch = Math.max(1, Math.floor(trainImages / PRETEXT_DEFAULTS.batchSize));
    cache.close();
    const runs: string[] = [];
    for (const { task, choice } of plan) {
      if (!choice) continue;
      // where a method's run of a few tens of steps on 57 images differs from the others' (docs/DEMO.md)
      const own = METHODS[task].demo?.({ trainImages, batchSize: PRETEXT_DEFAULTS.batchSize });
      const steps = o.steps ?? own?.steps ?? STEPS[choice.name];
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
        taskOptions: own?.options ?? {},
      });
      folder.claim([`runs/${task}`]);
      phase(task);
      runs.push(await runPretextCommand(opts));
    }
    phase('evaluation');
    folder.claim([...REPORT_FILES, 'time.md']);
    const summaries = runs.map(pretextSummary);
    // the report gets the pretext table as a section of its own and the runs' curves among its plots
    const report = { sections: [pretextSummaryMarkdown(summaries)], curves: runs.flatMap((r, i) => runCurves(r, summaries[i].task, o.size)) };
    await evaluateEncoders(LinearOptions.parse({ encoders: [...runs, 'random'], data: 'kermany-mini', size: o.size, cacheDir, runsDir, out: dir, seed: o.seed, quiet: o.quiet }), report);
    phase();
    const time = timeMarkdown(summaries, seconds, cpuSeconds());
    console.log(readFileSync(join(dir, 'results.md'), 'utf8'));
    console.log(time);
    writeFileAtomic(join(dir, 'time.md'), time);
    console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${dir} (results.md, results.html, pretext-curves.png, time.md)`);
  },
});

/** CPU seconds (user + sys) of this process and its children that have exited (the engines), where /proc has them. */
function cpuSeconds(): number | undefined {
  try {
    // fields 14-17 of /proc/self/stat: utime stime cutime cstime, in clock ticks (100 a second on Linux)
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0) / 100;
  } catch {
    return undefined;
  }
}
