import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TASKS } from '@cxr-ssl/data';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { flag, int } from '../options.ts';
import { evaluateEncoders, LinearOptions } from './linear.ts';
import { PrepareOptions, runPrepare } from './prepare.ts';
import { PretextOptions, runPretextCommand } from './pretext.ts';

export const DemoOptions = z
  .object({
    dir: z.string().default('runs/demo'),
    size: int().min(32).default(64),
    epochs: int().positive().default(15),
    engine: z.enum(['auto', 'torch', 'tfjs']).default('tfjs'),
    python: z.string().optional(),
    seed: int().nonnegative().default(0),
    quiet: flag().default(false),
  })
  .strict();

/**
 * The whole study in miniature on the bundled real X-rays: prepare -> the three pretext tasks ->
 * linear evaluation of each encoder and of a random-init one -> results.md / results.json.
 */
export const demo = defineCommand({
  name: 'demo',
  summary: 'Run the whole pipeline on the bundled fixture of real X-rays (a few minutes on 2 CPU cores)',
  flags: [
    ['--dir <dir>', 'output folder (default runs/demo)'],
    ['--size <px>', 'image size (default 64)'],
    ['--epochs <n>', 'pretext epochs per task (default 15)'],
    ['--engine <name>', 'tfjs | torch | auto (default tfjs: no Python needed)'],
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
    rmSync(runsDir, { recursive: true, force: true }); // the demo's own disposable runs: start fresh each time
    await runPrepare(PrepareOptions.parse({ sizes: [o.size], cacheDir, seed: o.seed, quiet: o.quiet, name: 'kermany-mini' }));
    const runs: string[] = [];
    for (const task of Object.keys(TASKS)) {
      const opts = PretextOptions.parse({
        task,
        data: 'kermany-mini',
        size: o.size,
        cacheDir,
        runsDir,
        epochs: o.epochs,
        batchSize: 16,
        lr: 0.01,
        seed: o.seed,
        engine: o.engine,
        python: o.python,
        quiet: o.quiet,
        run: task,
        resume: false,
      });
      runs.push(await runPretextCommand(opts));
    }
    await evaluateEncoders(LinearOptions.parse({ encoders: [...runs, 'random'], data: 'kermany-mini', size: o.size, cacheDir, runsDir, out: dir, seed: o.seed, quiet: o.quiet }));
    console.log(readFileSync(join(dir, 'results.md'), 'utf8'));
    console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${dir}`);
  },
});
