import { describe, expect, it } from 'vitest';
import { expectedCalibrationError, reliabilityBins } from './calibration.ts';

describe('calibration', () => {
  it('bins and ECE by hand', () => {
    const bins = reliabilityBins([0, 1, 1, 0, 1], [0.05, 0.15, 0.95, 0.92, 1]);
    expect(bins.map((b) => [b.lo, b.n])).toEqual([
      [0, 1],
      [0.1, 1],
      [0.9, 3],
    ]);
    expect(bins[2].predicted).toBeCloseTo((0.95 + 0.92 + 1) / 3, 12);
    expect(bins[2].observed).toBeCloseTo(2 / 3, 12);
    // (1/5)|0.05 - 0| + (1/5)|0.15 - 1| + (3/5)|0.9567 - 0.6667|
    expect(expectedCalibrationError(bins)).toBeCloseTo(0.05 / 5 + 0.85 / 5 + (3 / 5) * Math.abs((0.95 + 0.92 + 1) / 3 - 2 / 3), 12);
  });

  it('is 0 for predictions that come true at their rate, and refuses what is not a probability', () => {
    // P = 0.25 on 4 images of which 1 is positive; P = 0.75 on 4 of which 3 are
    const bins = reliabilityBins([1, 0, 0, 0, 1, 1, 1, 0], [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]);
    expect(expectedCalibrationError(bins)).toBeCloseTo(0, 12);
    expect(() => reliabilityBins([1], [1.2])).toThrow(/score 1.2 at row 0 is not a probability/);
  });
});
