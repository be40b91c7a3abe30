import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import { findTorchPython } from '@cxr-ssl/torch';
import { METHODS, PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { z } from 'zod';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { defineCommand } from '../command.ts';
import { addCurvesPlot, runCurves } from '../plots.ts';
import { pretextSummary, pretextSummaryMarkdown, timeMarkdown } from '../pretext-summary.ts';
import { flag, int } from '../options.ts';
import { evaluateEncoders, LinearOptions } from './linear.ts';
import { PrepareOptions, runPrepare } from './prepare.ts';
import { PretextOptions, runPretextCommand } from './pretext.ts';

export const DemoOptions = z
  .object({
    dir: z.string().default('runs/demo'),
    size: int().min(32).default(64),
    /** optimiser steps per pretext task (at the default batch size); default by engine, see STEPS */
    steps: int().positive().optional(),
    engine: z.enum(['auto', 'torch', 'tfjs']).default('auto'),
    python: z.string().optional(),
    seed: int().nonnegative().default(0),
    quiet: flag().default(false),
  })
  .strict();

/**
 * Steps per method that fit the demo's budget, 300 s on 2 CPU cores for all seven with torch (docs/DEMO.md
 * has the measurements and the breakdown).
 */
const STEPS = { torch: 20, tfjs: 15 } as const;

/**
 * The whole study in miniature on the bundled real X-rays: prepare -> every method the engine has, at its
 * default training settings but for its demo ones (Method.demo) -> linear evaluation of each encoder and
 * of a random-init one of the same architecture -> results.md (with the pretext table: does each method
 * learn, has it collapsed), results.json, pretext-curves.png, time.md (where the time went).
 */
export const demo = defineCommand({
  name: 'demo',
  summary: 'Run the whole pipeline on the bundled fixture of real X-rays (about 5 minutes on 2 CPU cores, torch or tfjs: docs/DEMO.md)',
  flags: [
    ['--dir <dir>', 'output folder (default runs/demo)'],
    ['--size <px>', 'image size (default 64)'],
    ['--steps <n>', `pretext optimiser steps per method (default ${STEPS.torch} with torch, ${STEPS.tfjs} with tfjs; a few methods take their own, docs/DEMO.md)`],
    ['--engine <name>', 'auto | torch | tfjs (default auto: torch when a Python with torch is found)'],
    ['--python <path>', 'python interpreter for the torch engine (default: env CXR_SSL_PYTHON, .venv-torch, /usr/bin/python3, python3)'],
    ['--seed <n>', 'seed (default 0)'],
    ['--quiet', 'no progress output'],
  ],
  schema: DemoOptions,
  async run(o) {
    const dir = resolve(o.dir);
    const cacheDir = join(dir, 'cache');
    const runsDir = join(dir, 'runs');
    const started = performance.now();
    // wall seconds per phase: prepare, each method's run, evaluation, plots (docs/DEMO.md)
    const seconds: Record<string, number> = {};
    let current: { name: string; at: number } | undefined;
    const phase = (name?: string) => {
      if (current) seconds[current.name] = (performance.now() - current.at) / 1000;
      current = name ? { name, at: performance.now() } : undefined;
    };
    phase('prepare');
    rmSync(runsDir, { recursive: true, force: true }); // the demo's own disposable runs: start fresh each time
    await runPrepare(PrepareOptions.parse({ sizes: [o.size], cacheDir, seed: o.seed, quiet: o.quiet, name: 'kermany-mini' }));
    const cache = openCache(cacheDir, 'kermany-mini', o.size);
    const trainImages = cache.indices('train').length;
    const stepsPerEpoch = Math.max(1, Math.floor(trainImages / PRETEXT_DEFAULTS.batchSize));
    cache.close();
    const torch = o.engine === 'torch' || (o.engine === 'auto' && !('error' in findTorchPython(o.python)));
    const steps = STEPS[torch ? 'torch' : 'tfjs'];
    const runs: string[] = [];
    const engineName = torch ? 'torch' : 'tfjs';
    for (const [task, method] of Object.entries(METHODS)) {
      if (method.engines && !method.engines.includes(engineName)) {
        if (!o.quiet) process.stderr.write(`note: ${task} skipped: it trains on the ${method.engines.join(' or ')} engine only\n`);
        continue;
      }
      // where a method's run of a few tens of steps on 57 images differs from the others' (docs/DEMO.md)
      const own = method.demo?.({ trainImages, batchSize: PRETEXT_DEFAULTS.batchSize });
      const opts = PretextOptions.parse({
        task,
        data: 'kermany-mini',
        size: o.size,
        cacheDir,
        runsDir,
        epochs: Math.ceil((o.steps ?? own?.steps ?? steps) / stepsPerEpoch),
        seed: o.seed,
        engine: o.engine,
        python: o.python,
        quiet: o.quiet,
        run: task,
        resume: false,
        taskOptions: own?.options ?? {},
      });
      phase(task);
      runs.push(await runPretextCommand(opts));
    }
    phase('evaluation');
    await evaluateEncoders(LinearOptions.parse({ encoders: [...runs, 'random'], data: 'kermany-mini', size: o.size, cacheDir, runsDir, out: dir, seed: o.seed, quiet: o.quiet }));
    phase('plots');
    const summaries = runs.map(pretextSummary);
    // ahead of the plots section, which writePlots renews as the report's last
    const md = readFileSync(join(dir, 'results.md'), 'utf8').split('\n## Plots\n')[0];
    writeFileAtomic(join(dir, 'results.md'), `${md.replace(/\n*$/, '\n\n')}${pretextSummaryMarkdown(summaries)}`);
    await addCurvesPlot(dir, runs.flatMap((r, i) => runCurves(r, summaries[i].task, o.size)));
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
