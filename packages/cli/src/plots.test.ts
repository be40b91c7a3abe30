import { join } from 'node:path';
import { labelEfficiency, readResultsFile } from '@cxr-ssl/eval';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { encoderColours } from './encoder-colours.ts';
import { leadFigureSpec } from './lead-figure.ts';
import { type CurvePoint, headlineRows, pretextCurvesSpec, resultBarsSpec, rocSpec } from './plots.ts';
import { FIXTURE_EVAL } from './study-fixture.ts';

// Issue 34's complaints about the plots, on the fixture evaluation: an encoder's colour changing
// between plots, an axis reading "0.500000", error-bar caps drawn as wide as the bars.
const rows = readResultsFile(join(FIXTURE_EVAL, 'results.json')).rows;
const cells = labelEfficiency(rows, { n: 200 });
const flat: CurvePoint[] = [10, 20, 30].flatMap((step) => [
  { task: 'dino-a', size: 128, step, metric: 'train loss' as const, value: 1.386 },
  { task: 'dino-a', size: 128, step, metric: 'held-out top-1' as const, value: 0.5 },
  { task: 'dino-a', size: 128, step, metric: 'held-out chance' as const, value: 0.25 },
  { task: 'dino-a', size: 128, step, metric: 'spread (collapse)' as const, value: 0.5 },
]);
const colour = encoderColours(rows, ['dino-a']);
const specs: Record<string, TopLevelSpec> = {
  lead: leadFigureSpec(cells, colour),
  bars: resultBarsSpec(headlineRows(rows), colour),
  roc: rocSpec(headlineRows(rows), colour),
  curves: pretextCurvesSpec(flat, colour),
};

/** Every encoding of `channel` in a spec, at any depth. */
function encodings(spec: unknown, channel: string): Record<string, unknown>[] {
  if (!spec || typeof spec !== 'object') return [];
  const own = (spec as { encoding?: Record<string, Record<string, unknown>> }).encoding?.[channel];
  return [...(own ? [own] : []), ...Object.values(spec).flatMap((v) => encodings(v, channel))];
}
const marks = (spec: unknown): { type: string; size?: number }[] =>
  !spec || typeof spec !== 'object' ? [] : [...('mark' in spec ? [typeof spec.mark === 'string' ? { type: spec.mark } : (spec.mark as { type: string })] : []), ...Object.values(spec).flatMap(marks)];

describe('plots of one report', () => {
  it('give each encoder one colour in every plot: the table order, references in greys', () => {
    expect(colour.domain).toEqual(['imagenet', 'dino-a', 'dino-b', 'random']);
    expect(colour.range).toEqual(['#222222', '#4c78a8', '#f58518', '#a8a8a8']);
    for (const [name, spec] of Object.entries(specs)) {
      const scales = encodings(spec, 'color').map((e) => e.scale);
      expect(scales.length, name).toBeGreaterThan(0);
      for (const s of scales) expect(s, name).toEqual(colour);
    }
  });

  it("list in a legend only the encoders the plot shows (a pretext run without evaluated rows keeps its colour elsewhere)", async () => {
    const withExtra = encoderColours(rows, ['moco']);
    expect(withExtra.domain).toContain('moco');
    for (const spec of [leadFigureSpec(cells, withExtra), rocSpec(headlineRows(rows), withExtra)]) {
      const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      expect(svg).toContain('>dino-b<');
      expect(svg).not.toContain('>moco<');
    }
  });

  it('label their ticks with at most 3 decimals, a flat series included', async () => {
    for (const [name, spec] of Object.entries(specs)) {
      const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
      const texts = [...(await view.toSVG()).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      view.finalize();
      expect(texts.length, name).toBeGreaterThan(5);
      for (const t of texts) expect(t, name).not.toMatch(/\d\.\d{4,}/);
    }
  });

  it('draw error bars as a rule with narrow caps, not as band-wide ticks', () => {
    const bars = marks(specs.bars);
    expect(bars.map((m) => m.type)).not.toContain('errorbar');
    const caps = bars.filter((m) => m.type === 'tick');
    expect(caps).toHaveLength(2);
    for (const c of caps) expect(c.size).toBeLessThan(28 / 2); // a bar is 28 px wide at most (its step)
    expect(bars.map((m) => m.type)).toContain('rule');
  });
});
