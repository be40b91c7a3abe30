import { describe, expect, it } from 'vitest';
import { parseMethod } from '../method-options.ts';
import { cosineToOne } from './method.ts';

describe("methods' per-step scalars: pure functions of the step", () => {
  it("BYOL's tau rises on a cosine from its option to 1", () => {
    const tau = cosineToOne(0.99);
    expect(tau(0, 100)).toBeCloseTo(0.99, 12);
    expect(tau(50, 100)).toBeCloseTo(0.995, 12); // (1 - 0.01 * (cos(pi/2) + 1) / 2)
    expect(tau(100, 100)).toBeCloseTo(1, 12);
    const byol = parseMethod('byol', {});
    expect(byol.scalarsAt(0, 100, 0.05)).toEqual({ tau: 0.99, lr: 0.05 });
  });

  it("DINO's teacher temperature warms up linearly over the configured fraction, then stays", () => {
    const dino = parseMethod('dino', { warmupTeacherTemperature: 0.04, teacherTemperature: 0.07, teacherWarmup: 0.3 });
    expect(dino.scalarsAt(0, 100, 0.1).teacherTemp).toBeCloseTo(0.04, 12);
    expect(dino.scalarsAt(15, 100, 0.1).teacherTemp).toBeCloseTo(0.055, 12);
    expect(dino.scalarsAt(30, 100, 0.1).teacherTemp).toBeCloseTo(0.07, 12);
    expect(dino.scalarsAt(99, 100, 0.1).teacherTemp).toBeCloseTo(0.07, 12);
  });

  it('a resumed run computes the same scalars as an uninterrupted one (no state: the step alone)', () => {
    const straight = parseMethod('dino', {});
    const resumed = parseMethod('dino', {});
    for (const step of [0, 7, 40, 199]) expect(resumed.scalarsAt(step, 200, 0.05)).toEqual(straight.scalarsAt(step, 200, 0.05));
    // a method without scalars of its own sends the lr alone
    expect(parseMethod('rotation', {}).scalarsAt(3, 10, 0.02)).toEqual({ lr: 0.02 });
  });
});
