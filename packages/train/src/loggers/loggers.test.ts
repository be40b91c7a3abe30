import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '@cxr-ssl/torch';
import { CsvLogger, LoggerOption, openLoggers, readTfrecords, TensorboardLogger } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cxr-loggers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--logger', () => {
  it('defaults to tensorboard,csv; none means none; an unknown name is refused with the choices', () => {
    expect(LoggerOption.parse(undefined)).toEqual(['tensorboard', 'csv']);
    expect(LoggerOption.parse('none')).toEqual([]);
    expect(LoggerOption.parse('csv')).toEqual(['csv']);
    const r = LoggerOption.safeParse('tensorboard,wandb');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toMatch(/wandb.*tensorboard,csv.*none/);
  });
});

describe('metrics.csv', () => {
  it('one fixed header; resuming keeps the rows up to the checkpoint', () => {
    const dir = mkdtempSync(join(tmp, 'csv-'));
    const log = new CsvLogger(join(dir, 'metrics.csv'));
    for (let s = 1; s <= 4; s++) log.write({ kind: 'step', step: s, epoch: 0, batch: s, loss: 2 / s, accuracy: 0.1 * s, lr: 0.05, samplesPerSec: 100 });
    log.write({ kind: 'epoch', step: 4, epoch: 0, loss: 1, accuracy: 0.3, valAccuracy: 0.5, lr: 0.04 });
    const again = new CsvLogger(join(dir, 'metrics.csv'));
    again.resumeAt(2);
    const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('kind,step,epoch,batch,loss,accuracy,lr,samplesPerSec,valLoss,valAccuracy,valChance,valSpread,valRank,valEncoderSpread,valEncoderRank');
    expect(lines.slice(1)).toEqual(['step,1,0,1,2,0.1,0.05,100,,,,,,,', 'step,2,0,2,1,0.2,0.05,100,,,,,,,']);
  });

  it('a file written before columns were added keeps its header, and rows follow it', () => {
    const dir = mkdtempSync(join(tmp, 'csv-old-'));
    writeFileSync(join(dir, 'metrics.csv'), 'kind,step,epoch,batch,loss,accuracy,lr,samplesPerSec,valLoss,valAccuracy\n');
    new CsvLogger(join(dir, 'metrics.csv')).write({ kind: 'heldout', step: 5, epoch: 0, valLoss: 0.7, valAccuracy: 0.5, valSpread: 0.8 });
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n')[1]).toBe('heldout,5,0,,,,,,0.7,0.5');
  });
});

const python = findTorchPython();
/** A Python whose tensorboard package imports: TensorBoard's own event reader. */
const tbPython = ['path' in python ? python.path : undefined, '/usr/bin/python3', 'python3']
  .filter((p): p is string => !!p)
  .find((p) => spawnSync(p, ['-c', 'import tensorboard.backend.event_processing.event_accumulator'], { encoding: 'utf8' }).status === 0);
if (!tbPython) console.warn('skipped: TensorBoard reads our event files (no Python with the tensorboard package: pip install tensorboard)');

describe('TensorBoard event files', () => {
  const dir = mkdtempSync(join(tmp, 'tb-'));
  const first = openLoggers(dir, ['tensorboard']);
  for (let s = 1; s <= 6; s++) first.write({ kind: 'step', step: s, epoch: 0, batch: s, loss: 1 / s, accuracy: s / 10, lr: 0.01 * s, samplesPerSec: 50 + s });
  first.write({ kind: 'epoch', step: 6, epoch: 0, loss: 0.5, accuracy: 0.4, valLoss: 0.7, valAccuracy: 0.55, lr: 0.06 });
  // a pooled run's held-out pass: the pool's figures, and each set's under its name
  const bySet = { fx: { loss: 0.5, accuracy: 0.75, samples: 10, chance: 0.25 }, fy: { loss: 0.625, accuracy: 0.5, samples: 6 } };
  first.write({ kind: 'heldout', step: 3, epoch: 0, valLoss: 0.55, valAccuracy: 0.65, valBySource: bySet });
  // a resumed process: its checkpoint was at step 4, so steps 5 and 6 of the first file are orphans
  const resumed = new TensorboardLogger(dir);
  resumed.resumeAt(4);
  resumed.write({ kind: 'step', step: 5, epoch: 0, batch: 5, loss: 0.25, accuracy: 0.9, lr: 0.07, samplesPerSec: 80 });

  it('are whole TFRecord files whose CRCs check', () => {
    const files = readdirSync(dir).filter((f) => f.includes('tfevents'));
    expect(files.length).toBe(2);
    const records = files.map((f) => readTfrecords(readFileSync(join(dir, f)), f).length).sort();
    expect(records).toEqual([3, 9]); // version + resume + 1 step; version + 6 steps + 1 epoch + 1 held-out
    const all = files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    for (const tag of ['val/accuracy/fx', 'val/loss/fy', 'val/chance/fx']) expect(all).toContain(tag);
    expect(all).not.toContain('val/samples'); // a count, not a figure to plot
  });

  it.skipIf(!tbPython)("TensorBoard's EventAccumulator reads the scalars back (and drops the orphaned steps)", () => {
    const script = [
      'import json, sys',
      'from tensorboard.backend.event_processing import event_accumulator as ea',
      'acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0}); acc.Reload()',
      'print(json.dumps({t: [[s.step, s.value] for s in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))',
    ].join('\n');
    const r = spawnSync(tbPython!, ['-c', script, dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, [number, number][]>;
    const perSet = ['val/accuracy/fx', 'val/accuracy/fy', 'val/chance/fx', 'val/loss/fx', 'val/loss/fy'];
    expect(Object.keys(got).sort()).toEqual(['epoch/accuracy', 'epoch/loss', 'epoch/lr', 'train/accuracy', 'train/loss', 'train/lr', 'train/samples_per_sec', 'val/accuracy', 'val/loss', ...perSet].sort());
    expect(got['val/accuracy/fx']).toEqual([[3, 0.75]]);
    expect(got['val/loss/fy']).toEqual([[3, 0.625]]);
    // steps 1..4 of the first process, then step 5 of the resumed one (float32 values)
    expect(got['train/loss'].map(([s]) => s)).toEqual([1, 2, 3, 4, 5]);
    expect(got['train/loss'][4][1]).toBeCloseTo(0.25, 6);
    expect(got['train/loss'][2][1]).toBeCloseTo(1 / 3, 6);
    expect(got['train/samples_per_sec'].map(([, v]) => v)).toEqual([51, 52, 53, 54, 80]);
  });
});
