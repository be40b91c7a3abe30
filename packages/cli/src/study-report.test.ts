import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
