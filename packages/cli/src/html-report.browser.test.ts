import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@cxr-ssl/data/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStudyReportTo } from './study-fixture.ts';

// results.html in a real browser: Debian's chromium driven by playwright-core (.ci/run installs
// both). Every plot must draw (an SVG with marks and a size), the tables fill, nothing is logged
// as an error. The screenshot goes to a temporary folder, so a test run leaves the tree clean;
// CXR_SSL_UPDATE_SCREENSHOT=1 writes it over docs/results-html.png, the one the README shows.
const CHROMIUM = process.env.CXR_SSL_CHROMIUM ?? '/usr/bin/chromium';
const tmp = mkdtempSync(join(tmpdir(), 'cxr-browser-'));
const SCREENSHOT = process.env.CXR_SSL_UPDATE_SCREENSHOT === '1' ? join(repoRoot(), 'docs', 'results-html.png') : join(tmp, 'results-html.png');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (!existsSync(CHROMIUM)) console.warn(`skipped: results.html in a browser (no ${CHROMIUM}: apt-get install chromium, or set CXR_SSL_CHROMIUM)`);

describe.skipIf(!existsSync(CHROMIUM))('results.html in headless Chromium', () => {
  it('tables and every plot render, no console errors; screenshot saved', async () => {
    const { chromium } = await import('playwright-core');
    const dir = join(tmp, 'study');
    mkdirSync(dir);
    await writeStudyReportTo(dir);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 1500 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) errors.push(`external request: ${r.url()}`);
      });
      await page.goto(pathToFileURL(join(dir, 'results.html')).href);
      const plots = await page.$$eval('figure.plot', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return { plot: f.getAttribute('data-plot'), width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, line, rect, circle, text').length ?? 0 };
        }),
      );
      expect(plots.map((p) => p.plot).sort()).toEqual(['label-efficiency', 'linear-eval', 'pretext-curves', 'roc']);
      for (const p of plots) {
        expect(p.width, p.plot!).toBeGreaterThan(100);
        expect(p.height, p.plot!).toBeGreaterThan(100);
        expect(p.marks, p.plot!).toBeGreaterThan(20);
      }
      const tables = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length));
      expect(tables.length).toBeGreaterThanOrEqual(3);
      for (const n of tables) expect(n).toBeGreaterThan(0);
      expect(await page.textContent('body')).toMatch(/Label efficiency/);
      expect(errors).toEqual([]);
      // the plots, where a reader of the README wants to look (the tables come first in the page)
      await page.locator('h2', { hasText: 'Plots' }).evaluate((h) => h.scrollIntoView());
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
    } finally {
      await browser.close();
    }
  }, 180_000);
});
