import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResultsFile } from '@cxr-ssl/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownToHtml } from './html-report.ts';
import { writePlots } from './plots.ts';
import { addReportSection } from './report.ts';
import { writeStudyReportTo } from './study-fixture.ts';

// The real H200 resnet18 study (docs/results): its rows and pretext curves through the writers.

const tmp = mkdtempSync(join(tmpdir(), 'cxr-html-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('markdown -> HTML (our subset)', () => {
  it('tables, headings, bold, <br> in cells, escaped text, images by callback', () => {
    const html = markdownToHtml('# T\n\nsome <b> & text\n\n| a | b |\n|---|---|\n| **x** | 1<br>2 |\n\n![ROC](roc.png)\n', (src, alt) => `[${alt}:${src}]`);
    expect(html).toBe('<h1>T</h1>\n<p>some &lt;b&gt; &amp; text</p>\n<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td><strong>x</strong></td><td>1<br>2</td></tr></tbody></table>\n[ROC:roc.png]');
  });

  it('a level-2 heading opens a section named by its slug; lists; <details> and <summary> lines pass, their text escaped', () => {
    const html = markdownToHtml('## The Answer\n\n- **a** beats b\n- c <d>\n  ties\n\n## Per-seed rows\n\n<details>\n<summary>2 rows & more</summary>\n\ntext\n\n</details>\n', () => '');
    expect(html).toBe(
      '<section id="the-answer">\n<h2>The Answer</h2>\n<ul><li><strong>a</strong> beats b</li><li>c &lt;d&gt; ties</li></ul>\n</section>\n' +
        '<section id="per-seed-rows">\n<h2>Per-seed rows</h2>\n<details>\n<summary>2 rows &amp; more</summary>\n<p>text</p>\n</details>\n</section>',
    );
  });
});

/** The level-2 headings of a markdown document, in order. */
const headings = (md: string) => md.split('\n').filter((l) => l.startsWith('## '));

describe('results.html beside results.md', () => {
  it('results.md: the answer, its figure, the compact table, the settings, the plots, the per-seed rows folded; results.html embeds every plot as SVG, no external reference', async () => {
    const dir = join(tmp, 'study');
    await writeStudyReportTo(dir);
    const md = readFileSync(join(dir, 'results.md'), 'utf8');
    expect(headings(md)).toEqual(['## Answer', '## AUC by encoder, protocol and share of labels', '## Encoders and settings', '## Plots', '## Per-seed rows']);
    // the lead figure is in the answer; the other plots in their section, as PNGs beside results.md
    expect(md.indexOf('(label-efficiency.png)')).toBeGreaterThan(md.indexOf('## Answer'));
    expect(md.indexOf('(label-efficiency.png)')).toBeLessThan(md.indexOf('## AUC by encoder'));
    for (const p of ['pretext-curves', 'linear-eval', 'roc']) expect(md.indexOf(`(${p}.png)`)).toBeGreaterThan(md.indexOf('## Plots'));
    expect(md).toMatch(/\n<details>\n<summary>\d+ rows, one per encoder/);
    const html = readFileSync(join(dir, 'results.html'), 'utf8');
    expect(html.match(/<figure class="plot"/g)).toHaveLength(4);
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('<section id="answer">');
    expect(html).toMatch(/<td>context<\/td>/);
    expect(html).not.toMatch(/<(img|script|link)\b|src="/); // self-contained

    // a command's own section goes after the settings, ahead of the plots; added again, it is replaced
    addReportSection(dir, '## Pretext runs\n\n| run |\n|---|\n| a |\n');
    addReportSection(dir, '## Pretext runs\n\n| run |\n|---|\n| b |\n');
    // written again, the plot section is renewed, not repeated, and a lead figure not drawn this time goes
    await writePlots(dir, readResultsFile(join(dir, 'results.json')).rows, [], []);
    const again = readFileSync(join(dir, 'results.md'), 'utf8');
    expect(headings(again)).toEqual(['## Answer', '## AUC by encoder, protocol and share of labels', '## Encoders and settings', '## Pretext runs', '## Plots', '## Per-seed rows']);
    expect(again).toContain('| b |');
    expect(again).not.toContain('| a |');
    expect(again).not.toContain('label-efficiency.png');
    expect(existsSync(join(dir, 'label-efficiency.svg'))).toBe(false);
    expect(readFileSync(join(dir, 'results.html'), 'utf8')).toContain('<section id="pretext-runs">');
  }, 120_000);
});
