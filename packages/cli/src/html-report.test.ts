import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownToHtml } from './html-report.ts';
import { writePlots } from './plots.ts';
import { writeStudyReportTo } from './study-fixture.ts';

// The real H200 resnet18 study (docs/results): its rows and pretext curves through the writers.

const tmp = mkdtempSync(join(tmpdir(), 'cxr-html-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('markdown -> HTML (our subset)', () => {
  it('tables, headings, bold, <br> in cells, escaped text, images by callback', () => {
    const html = markdownToHtml('# T\n\nsome <b> & text\n\n| a | b |\n|---|---|\n| **x** | 1<br>2 |\n\n![ROC](roc.png)\n', (src, alt) => `[${alt}:${src}]`);
    expect(html).toBe('<h1>T</h1>\n<p>some &lt;b&gt; &amp; text</p>\n<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td><strong>x</strong></td><td>1<br>2</td></tr></tbody></table>\n[ROC:roc.png]');
  });
});

describe('results.html beside results.md', () => {
  it('results.md shows the PNG plots; results.html embeds every plot as SVG with the tables, no external reference', async () => {
    const dir = join(tmp, 'study');
    await writeStudyReportTo(dir);
    const md = readFileSync(join(dir, 'results.md'), 'utf8');
    for (const p of ['pretext-curves', 'linear-eval', 'roc', 'label-efficiency']) expect(md).toContain(`(${p}.png)`);
    const html = readFileSync(join(dir, 'results.html'), 'utf8');
    expect(html.match(/<figure class="plot"/g)).toHaveLength(4);
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('<h2>Label efficiency</h2>');
    expect(html).toMatch(/<td>context<\/td>/);
    expect(html).not.toMatch(/<(img|script|link)\b|src="/); // self-contained
    // written again, the plot section is renewed, not repeated
    await writePlots(dir, readResultsFile(join(dir, 'results.json')).rows, [], []);
    expect(readFileSync(join(dir, 'results.md'), 'utf8').match(/## Plots/g)).toHaveLength(1);
    expect(existsSync(join(dir, 'results.html'))).toBe(true);
  }, 120_000);
});
