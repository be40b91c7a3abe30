/**
 * A real training run, as `pretext` runs it: runPretext at its defaults (the cache's own epochs, held-out
 * passes and checkpoints on their default cadence, the lr schedule, the loggers), for about `steps` steps.
 * Its samples/s is over the loop's wall time: steps, held-out passes and checkpoints, not the engine's
 * start or the export. Against the bench's rate for the same configuration (tools/device/gpu-run.ts, "ours")
 * it is what the loop's bookkeeping costs (issue 28: real/bench >= 0.9). Used by tools/bench/torch-cpu.ts
 * (--real-steps) and tools/device/gpu-run.ts (--real-steps, the GPU check's "real" column).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '@cxr-ssl/data';
import type { Engine } from '../../packages/train/src/engine.ts';
import { runPretext } from '../../packages/train/src/loop.ts';
import { MetricsLog } from '../../packages/train/src/metrics-log.ts';
import type { RenderOption } from '../../packages/train/src/render.ts';

export interface RealRunOptions {
  cache: { dir: string; name: string; size: number };
  task: string;
  encoder: string;
  batch: number;
  steps: number;
  workers: number;
  render?: RenderOption;
  /** a fresh engine: the run inits it (and the caller closes it) */
  engine: Engine;
}

export interface RealRunRate {
  samplesPerSec: number;
  /**
   * the same after the first epoch, whose first steps pay one-time costs a bench's warm-up leaves out
   * (cudnn's autotuning, torch.compile, the first batches): absent for a run of one epoch
   */
  afterFirstEpoch?: number;
  steps: number;
  stepsPerEpoch: number;
  /** the run's phases (metrics.jsonl's timing line), seconds */
  seconds: { steps: number; heldOut: number; checkpoints: number; init: number; export: number };
}

export async function realRunRate(o: RealRunOptions): Promise<RealRunRate> {
  const cache = openCache(o.cache.dir, o.cache.name, o.cache.size);
  const fullEpoch = Math.floor(cache.indices('train').length / o.batch);
  cache.close();
  const stepsPerEpoch = Math.min(fullEpoch, o.steps);
  const runDir = mkdtempSync(join(tmpdir(), `cxr-real-${o.task}-`));
  try {
    const cfg = { task: o.task, encoder: o.encoder, cache: o.cache, epochs: Math.ceil(o.steps / stepsPerEpoch), batchSize: o.batch, stepsPerEpoch, workers: o.workers, ...(o.render ? { render: o.render } : {}) };
    await runPretext(cfg, { runDir: join(runDir, 'run'), engine: o.engine });
    const lines = new MetricsLog(join(runDir, 'run', 'metrics.jsonl')).read();
    const t = lines.find((l) => l.kind === 'timing')!;
    const seconds = { steps: Number(t.steps), heldOut: Number(t.heldOut), checkpoints: Number(t.checkpoints), init: Number(t.init), export: Number(t.export) };
    const loop = seconds.steps + seconds.heldOut + seconds.checkpoints;
    // step lines time the interval since the previous one (held-out passes between them included), the
    // first from the loop's start: the first epoch's time is the sum of its intervals
    let first = { steps: 0, seconds: 0 };
    for (const l of lines.filter((x) => x.kind === 'step' && x.epoch === 0)) {
      const samples = (l.step - first.steps) * o.batch;
      first = { steps: l.step, seconds: first.seconds + samples / Number(l.samplesPerSec) };
    }
    const rest = t.step - first.steps;
    const afterFirstEpoch = rest > 0 && first.steps === stepsPerEpoch ? (rest * o.batch) / (loop - first.seconds) : undefined;
    return { samplesPerSec: (t.step * o.batch) / loop, ...(afterFirstEpoch ? { afterFirstEpoch } : {}), steps: t.step, stepsPerEpoch, seconds };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
