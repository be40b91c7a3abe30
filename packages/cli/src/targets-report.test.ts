import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@cxr-ssl/data';
import { type ResultRow, labelEfficiency, pairRows, readResultsFile, scoreTarget, type Target } from '@cxr-ssl/eval';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { encoderColours } from './encoder-colours.ts';
import { featureHealthMarkdown } from './feature-report.ts';
import { runCli } from './reliability/spawn.ts';
import { reportMarkdown } from './report.ts';
import { operatingPointsMarkdown, outputsMarkdown, reliabilitySpec, targetNote } from './targets-report.ts';

const CLASSES: Target = { name: 'classes', outputs: ['NORMAL', 'bacteria', 'virus'], head: { kind: 'softmax', classes: ['NORMAL', 'bacteria', 'virus'], scored: [0, 1, 2] } };

/** One-hot truth of n images and softmax-like scores that favour the true class by `signal`. */
function scored(n: number, signal: number, seed: number) {
  const rng = createRng(seed);
  const truth: number[] = [];
  const probs: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const raw = [0, 1, 2].map((k) => rng.next() + (k === c ? signal : 0));
    const sum = raw.reduce((s, x) => s + x, 0);
    for (let k = 0; k < 3; k++) {
      truth.push(k === c ? 1 : 0);
      probs.push(raw[k] / sum);
    }
  }
  return { truth, probs };
}

function row(label: string, method: string, signal: number, seed: number): ResultRow {
  const test = scored(60, signal, seed);
  const val = scored(30, signal, seed + 100);
  return { label, method, size: 64, protocol: 'linear', fraction: 1, seed, data: 'kermany', n_train: 100, ...scoreTarget(CLASSES, test, val, { n: 100, seed: 0 }) } as ResultRow;
}

describe("the report's sections for classes, operating points and calibration", () => {
  const rows = pairRows([row('random', 'random', 0.2, 0), row('moco-a', 'moco', 1.5, 0)], { n: 100 });
  const cells = labelEfficiency(rows, { n: 100 });

  it('a per-class table: each class with its AUC, CI and ΔR; the macro mean last', () => {
    const md = outputsMarkdown(cells).join('\n');
    expect(md).toMatch(/### classes, linear, 100% labels, kermany at 64 px/);
    expect(md).toMatch(/\| encoder \| NORMAL \(n\+ 20\) \| bacteria \(n\+ 20\) \| virus \(n\+ 20\) \| macro \|/);
    const moco = md.split('\n').find((l) => l.startsWith('| moco-a |'))!;
    const m = rows[1];
    const cell = (x: number) => (100 * x).toFixed(1);
    expect(moco).toContain(cell(m.outputs![0].auc!));
    expect(moco).toContain(`ΔR +${cell(m.outputs![0].paired!.random.diff)}`);
    expect(moco.split(' | ').at(-1)).toContain(cell(m.auc));
    expect(targetNote(rows).join('\n')).toMatch(/accuracy is top-1, AUC the mean \(macro\)/);
  });

  it('an operating-point table: the test rate at each val threshold, with the fixed rate reached and its CI, and the ECE', () => {
    const md = operatingPointsMarkdown(rows).join('\n');
    const line = md.split('\n').find((l) => l.startsWith('| moco-a | linear | 100% | bacteria |'))!;
    const p = rows[1].outputs![1].operating![0];
    expect(line).toContain(`${(100 * p.sensitivity).toFixed(1)} (spec. ${(100 * p.specificity).toFixed(1)}; [`);
    expect(line).toContain(`| ${(100 * rows[1].outputs![1].ece!).toFixed(1)} | 1 |`);
    expect(operatingPointsMarkdown([{ ...rows[0], outputs: undefined }])).toEqual([]);
  });

  it('a reliability diagram of every output, and a warning for an encoder of constant features', async () => {
    const colour = encoderColours(rows);
    const spec = reliabilitySpec(rows, 'linear', colour);
    const { data, spec: panel } = spec as unknown as { data: { values: { output: string }[] }; spec: { layer: { encoding: { color?: { scale: unknown } } }[] } };
    expect(new Set(data.values.map((v) => v.output))).toEqual(new Set(['NORMAL', 'bacteria', 'virus']));
    expect(panel.layer[1].encoding.color?.scale).toEqual(colour); // each encoder in its colour of the other plots
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    const ticks = [...(await view.toSVG()).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    view.finalize();
    expect(ticks).toContain('0.4');
    for (const t of ticks) expect(t).not.toMatch(/\d\.\d{4,}/);
    expect(featureHealthMarkdown(rows)).toEqual([]);
    expect(featureHealthMarkdown([{ ...rows[0], feature_health: { scale: 1e-9, dead: 0, constant: 1 } }]).join('\n')).toMatch(/## Feature warnings\n\n- 100\.0 % of random's features are constant/);
  });

  it('in results.md after the answer, the lead figure and the compact table, each its own section, before the settings and the per-seed rows', () => {
    const md = reportMarkdown(rows, cells, { title: 'classes' });
    expect(md).toMatch(/^Classes \(NORMAL, bacteria, virus\) on the test split of kermany at 64 px/m);
    const at = ['## Answer', '![', '## AUC by encoder, protocol and share of labels', 'Rows of `--target classes`', '## Per class and per finding', '## Operating points and calibration', '## Encoders and settings', '## Per-seed rows'].map((h) => md.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});

describe('a plain binary run (normal vs abnormal) on the fixture X-rays', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cxr-binary-op-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('shows its operating points (thresholds from val) and calibration in results.md and results.html, with the reliability diagram', () => {
    const r = runCli(tmp, ['eval', '--encoders', 'random', '--arch', 'vgg-small-bn', '--size', '32', '--cache-dir', 'cache', '--runs-dir', 'runs', '--protocol', 'linear', '--epochs', '1', '--out', 'ev', '--quiet']);
    expect(r.code, r.err).toBe(0);
    const dir = join(tmp, 'ev');
    const row = readResultsFile(join(dir, 'results.json')).rows[0];
    expect(row.target).toBe('abnormal');
    const o = row.outputs![0];
    expect(o.operating).toHaveLength(4);
    const md = readFileSync(join(dir, 'results.md'), 'utf8');
    const at = ['## AUC by encoder, protocol and share of labels', '## Operating points and calibration', '## Encoders and settings'].map((h) => md.indexOf(h));
    expect(at[0]).toBeGreaterThan(0);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // one output: no output column; each cell the test rate at the val threshold, the fixed rate reached on test, its CI
    expect(md).toContain('| encoder | protocol | labels | sens. @ 90 % spec. | sens. @ 95 % spec. | spec. @ 90 % sens. | spec. @ 95 % sens. | ECE | seeds |');
    const p = (x: number) => (100 * x).toFixed(1);
    const spec90 = o.operating!.find((x) => x.fixed === 'specificity' && x.level === 0.9)!;
    const sens95 = o.operating!.find((x) => x.fixed === 'sensitivity' && x.level === 0.95)!;
    const line = md.split('\n').find((l) => l.startsWith('| random | linear | 100% | '))!;
    expect(line).toContain(`| ${p(spec90.sensitivity)} (spec. ${p(spec90.specificity)}; [${p(spec90.ci.sensitivity[0])}, ${p(spec90.ci.sensitivity[1])}]) |`);
    expect(line).toContain(`| ${p(sens95.specificity)} (sens. ${p(sens95.sensitivity)}; [`);
    expect(line).toMatch(new RegExp(`\\| ${p(o.ece!)} \\| 1 \\|$`));
    const html = readFileSync(join(dir, 'results.html'), 'utf8');
    const section = html.slice(html.indexOf('<section id="operating-points-and-calibration">'));
    expect(section).toMatch(/^<section id="operating-points-and-calibration">\s*<h2>Operating points and calibration<\/h2>[\s\S]*?<table>[\s\S]*?<td>random<\/td>/);
    expect(existsSync(join(dir, 'reliability.svg'))).toBe(true);
    expect(md).toContain('](reliability.png)');
  });
});
