import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@cxr-ssl/data/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_DEMO, FIXTURE_EVAL, writeReportFrom, writeStudyReportTo } from './study-fixture.ts';

// results.html in a real browser: Debian's chromium driven by playwright-core (.ci/run installs
// both), at 1280 x 800, for three reports: the H200 study, the fixture evaluation (4 encoders, 2
// protocols, 3 fractions, 3 seeds) and a demo. The answer sentences and the lead figure must be on the
// first screen; every plot draws (an SVG with marks and a size), the tables fill, the per-seed rows are
// folded, nothing is logged as an error. Screenshots go to a temporary folder, so a test run leaves the
// tree clean; CXR_SSL_UPDATE_SCREENSHOT=1 writes them over docs/results-html*.png.
const CHROMIUM = process.env.CXR_SSL_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
const tmp = mkdtempSync(join(tmpdir(), 'cxr-browser-'));
const screenshotPath = (name: string) => join(process.env.CXR_SSL_UPDATE_SCREENSHOT === '1' ? join(repoRoot(), 'docs') : tmp, name);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (!existsSync(CHROMIUM)) console.warn(`skipped: results.html in a browser (no ${CHROMIUM}: apt-get install chromium, or set CXR_SSL_CHROMIUM)`);

const CASES = [
  { name: 'the H200 study', png: 'results-html.png', lead: 'label-efficiency', plots: ['label-efficiency', 'linear-eval', 'pretext-curves', 'roc'], write: writeStudyReportTo },
  {
    name: 'the fixture evaluation',
    png: 'results-html-eval.png',
    lead: 'label-efficiency',
    plots: ['label-efficiency', 'linear-eval', 'roc'],
    write: (dir: string) => writeReportFrom(FIXTURE_EVAL, dir, 'Evaluation on kermany-mini at 128 px (linear, knn)'),
  },
  {
    name: 'a demo',
    png: 'results-html-demo.png',
    lead: 'auc-by-encoder',
    plots: ['auc-by-encoder', 'linear-eval', 'roc'],
    write: (dir: string) => writeReportFrom(FIXTURE_DEMO, dir, 'Linear evaluation on kermany-mini at 64 px'),
  },
];

describe.skipIf(!existsSync(CHROMIUM))('results.html in headless Chromium at 1280 x 800', () => {
  let browser: Browser;
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(() => browser?.close());

  it.each(CASES)('$name: the answer and its figure on the first screen, every plot drawn, per-seed rows folded, no console error', async (c) => {
    const dir = join(tmp, c.png.replace(/\.png$/, ''));
    await c.write(dir);
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) errors.push(`external request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(join(dir, 'results.html')).href);

    // above the fold: every answer sentence and the whole lead figure
    const sentences = await page.$$eval('#answer li', (lis) => lis.map((li) => ({ text: li.textContent ?? '', ...li.getBoundingClientRect().toJSON() })));
    expect(sentences.length).toBeGreaterThan(0);
    for (const s of sentences) {
      expect(s.text).toMatch(/^\S+ (beats|ties with|loses to) .* at /);
      expect(s.bottom, s.text).toBeLessThanOrEqual(VIEWPORT.height);
    }
    const lead = await page.$eval(`#answer figure[data-plot="${c.lead}"] svg`, (svg) => svg.getBoundingClientRect().toJSON());
    expect(lead.top).toBeGreaterThanOrEqual(0);
    expect(lead.bottom).toBeLessThanOrEqual(VIEWPORT.height);
    expect(lead.right).toBeLessThanOrEqual(VIEWPORT.width);

    const plots = await page.$$eval('figure.plot', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { plot: f.getAttribute('data-plot'), width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, line, rect, circle, text').length ?? 0 };
      }),
    );
    expect(plots.map((p) => p.plot).sort()).toEqual(c.plots);
    for (const p of plots) {
      expect(p.width, p.plot!).toBeGreaterThan(100);
      expect(p.height, p.plot!).toBeGreaterThan(100);
      expect(p.marks, p.plot!).toBeGreaterThan(20);
    }
    // the order of results.md: answer, compact table, settings, plots, per-seed rows
    expect(await page.$$eval('section', (ss) => ss.map((s) => s.id))).toEqual(['answer', 'auc-by-encoder-protocol-and-share-of-labels', 'encoders-and-settings', 'plots', 'per-seed-rows']);
    const tables = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length));
    expect(tables.length).toBe(3);
    for (const n of tables) expect(n).toBeGreaterThan(0);
    // the per-seed rows are folded until their summary is clicked
    expect(await page.isVisible('#per-seed-rows table')).toBe(false);
    await page.screenshot({ path: screenshotPath(c.png), fullPage: false });
    await page.click('#per-seed-rows summary');
    expect(await page.isVisible('#per-seed-rows table')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
