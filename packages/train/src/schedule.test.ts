import { describe, expect, it } from 'vitest';
import { PretextConfig } from './config.ts';
import { Schedule, describeSchedule, lrAt, warmupSteps } from './schedule.ts';

// Hand-computed values: 10 steps per epoch, 100 updates in all, peak lr 0.1.
const lr = 0.1;
const at = (s: unknown, step: number) => lrAt(lr, Schedule.parse(s), step, 10, 100);

describe('lrAt', () => {
  it('step: x decay once per epoch, constant inside an epoch', () => {
    const s = { name: 'step', decay: 0.5 };
    expect([0, 9, 10, 19, 20, 35].map((t) => at(s, t))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
  });

  it("inverse-time: Keras' decay, lr / (1 + decay t), t counted before the update", () => {
    const s = { name: 'inverse-time', decay: 0.9 };
    expect(at(s, 0)).toBe(0.1);
    expect(at(s, 1)).toBeCloseTo(0.1 / 1.9, 15);
    expect(at(s, 10)).toBeCloseTo(0.01, 15); // 0.1 / (1 + 9)
    expect(at({ name: 'inverse-time', decay: 1e-3 }, 1000)).toBeCloseTo(0.05, 15);
  });

  it('cosine: linear warm-up to the peak, then a half cosine to minLr', () => {
    const s = { name: 'cosine', warmupSteps: 4, minLr: 0.02 };
    // warm-up: (t + 1) / 4 of the peak
    for (const [t, want] of [0.025, 0.05, 0.075, 0.1].entries()) expect(at(s, t)).toBeCloseTo(want, 15);
    // then progress (t - 4) / 96: 0 -> peak, 1/2 -> midpoint, 1 -> minLr
    expect(at(s, 4)).toBeCloseTo(0.1, 15);
    expect(at(s, 52)).toBeCloseTo(0.06, 15);
    expect(at(s, 28)).toBeCloseTo(0.02 + 0.08 * (1 + Math.SQRT1_2) / 2, 15); // progress 1/4
    expect(at(s, 99)).toBeGreaterThan(0.02);
    expect(at(s, 100)).toBeCloseTo(0.02, 15);
  });

  it('cosine warm-up: in epochs, or 5% of all steps by default, or none', () => {
    const ep = Schedule.parse({ name: 'cosine', warmupEpochs: 0.5 });
    expect(warmupSteps(ep, 10, 100)).toBe(5);
    expect(lrAt(lr, ep, 0, 10, 100)).toBeCloseTo(0.02, 15);
    const dflt = Schedule.parse({ name: 'cosine' });
    expect(warmupSteps(dflt, 10, 100)).toBe(5);
    expect(warmupSteps(dflt, 10, 800)).toBe(40);
    expect(at({ name: 'cosine', warmupSteps: 0 }, 0)).toBe(0.1);
    expect(at({ name: 'cosine', warmupSteps: 0 }, 50)).toBeCloseTo(0.05, 15);
  });

  it('the study\'s lr 0.001, "decay 0.9": below 1e-5 from epoch 44 per epoch, after 110 updates per iteration', () => {
    const step = Schedule.parse({ name: 'step', decay: 0.9 });
    const inv = Schedule.parse({ name: 'inverse-time', decay: 0.9 });
    // 0.001 * 0.9^e < 1e-5 <=> e > 2 / -log10(0.9) = 43.7 (epochs counted from 0)
    expect(lrAt(0.001, step, 43 * 10, 10, 1000)).toBeGreaterThan(1e-5);
    expect(lrAt(0.001, step, 44 * 10, 10, 1000)).toBeLessThan(1e-5);
    // 0.001 / (1 + 0.9 t) < 1e-5 <=> t > 99 / 0.9 = 110
    expect(lrAt(0.001, inv, 110, 10, 1000)).toBeCloseTo(1e-5, 15);
    expect(lrAt(0.001, inv, 111, 10, 1000)).toBeLessThan(1e-5);
  });

  it('rejects bad input, naming the option', () => {
    expect(() => Schedule.parse({ name: 'step' })).toThrow(/decay/);
    expect(() => Schedule.parse({ name: 'step', decay: 1.5 })).toThrow();
    expect(() => Schedule.parse({ name: 'cosine', decay: 0.9 })).toThrow(/decay/);
    expect(() => Schedule.parse({ name: 'cosine', warmupSteps: 3, warmupEpochs: 1 })).toThrow(/not both/);
    expect(() => Schedule.parse({ name: 'linear' })).toThrow();
    expect(() => at({ name: 'step', decay: 0.9 }, -1)).toThrow(/non-negative/);
    const base = { task: 'rotation', cache: { dir: '.', name: 'x', size: 32 } };
    expect(() => PretextConfig.parse({ ...base, optimizer: { lr: 0.01 }, schedule: { name: 'cosine', minLr: 0.01 } })).toThrow(/minLr/);
    expect(PretextConfig.parse(base).schedule).toEqual({ name: 'cosine', minLr: 0 });
  });

  it('describes itself for logs and reports', () => {
    expect(describeSchedule(Schedule.parse({ name: 'step', decay: 0.9 }))).toBe('step (x0.9 per epoch)');
    expect(describeSchedule(Schedule.parse({ name: 'cosine' }), 10, 800)).toBe('cosine (warm-up 40 steps, to 0)');
  });
});
