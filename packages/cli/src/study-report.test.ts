import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelEfficiency, readResultsFile } from '@cxr-ssl/eval';
import { describe, expect, it } from 'vitest';
import { FIXTURE_EVAL } from './study-fixture.ts';
import { writeStudyReport } from './study-report.ts';

describe('results.md of reproduce', () => {
  it("summarises each run's shortcut probe when tools/probe/shortcut.ts has written one, and only then", () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-report-'));
    try {
      const cfg = { sizes: [64], data: { name: 'fx' }, encoder: 'vgg-small-bn' };
      writeStudyReport(dir, [], cfg, []);
      expect(readFileSync(join(dir, 'results.md'), 'utf8')).not.toContain('## Shortcuts');
      for (const [run, probe, held] of [['jigsaw-64', 0.9, 0.95], ['rotation-64', 0.5, 0.9]] as const) {
        mkdirSync(join(dir, 'runs', run), { recursive: true });
        const chance = run.startsWith('jigsaw') ? 0.01 : 0.25;
        const share = (probe - chance) / (held - chance);
        writeFileSync(join(dir, 'runs', run, 'shortcut.json'), JSON.stringify({ probeAccuracy: probe, runAccuracy: held, chance, share }));
      }
      mkdirSync(join(dir, 'runs', 'context-64')); // a run without a probe: no row
      writeStudyReport(dir, [], cfg, []);
      const md = readFileSync(join(dir, 'results.md'), 'utf8');
      expect(md).toContain('| jigsaw-64 | 95.0 | 90.0 | 1.0 | 95% |');
      expect(md).toContain('| rotation-64 | 90.0 | 50.0 | 25.0 | 38% |');
      expect(md).not.toContain('| context-64 |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens with the answer and its figure, then the study's Table 1, the compact table, the settings and the per-seed rows", () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-report-'));
    try {
      const rows = readResultsFile(join(FIXTURE_EVAL, 'results.json')).rows;
      writeStudyReport(dir, rows, { sizes: [128], data: { name: 'kermany-mini' }, encoder: 'mobilenetv2-0.35' }, labelEfficiency(rows));
      const md = readFileSync(join(dir, 'results.md'), 'utf8');
      expect(md.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## Answer', "## The study's Table 1", '## AUC by encoder, protocol and share of labels', '## Encoders and settings', '## Per-seed rows']);
      expect(md).toMatch(/## Answer\n\n- \*\*imagenet\*\* beats random init at 10\u00a0% and 100\u00a0% of labels, linear/);
      expect(md.indexOf('![AUC by share of training labels')).toBeLessThan(md.indexOf("## The study's Table 1"));
      expect(md).toMatch(/\| imagenet \| imagenet \| mobilenetv2-0\.35 \| – \| – \| [\d.]+ \| 100\.0 \| 68\.84 \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
