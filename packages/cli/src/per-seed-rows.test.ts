import { join } from 'node:path';
import { readResultsFile } from '@cxr-ssl/eval';
import { describe, expect, it } from 'vitest';
import { perSeedMarkdown } from './per-seed-rows.ts';
import { FIXTURE_EVAL } from './study-fixture.ts';

describe('per-seed rows (the fixture evaluation: 4 encoders, linear and kNN, 1/10/100 %, 3 seeds)', () => {
  const rows = readResultsFile(join(FIXTURE_EVAL, 'results.json')).rows;
  const md = perSeedMarkdown(rows);
  const lines = md.filter((l) => l.startsWith('| ') && !l.startsWith('| encoder |'));

  it('seeds that scored every test image the same are one line: kNN on all labels, whatever the seed', () => {
    const knnAll = rows.filter((r) => r.protocol === 'knn' && r.fraction === 1);
    for (const label of ['random', 'imagenet', 'dino-a', 'dino-b']) {
      const [s0, s1, s2] = knnAll.filter((r) => r.label === label).map((r) => r.scores);
      expect(s1).toEqual(s0);
      expect(s2).toEqual(s0);
    }
    const collapsed = lines.filter((l) => l.includes(' | 0–2 (same scores) | '));
    expect(collapsed).toHaveLength(4);
    for (const l of collapsed) expect(l).toContain('| knn | 100% |');
    expect(lines).toHaveLength(72 - 4 * 3 + 4);
    expect(md).toContain('<summary>72 rows, one per encoder, protocol, label fraction and seed; seeds that scored every test image the same are one line (the first seed\'s CIs): 12 rows in 4 lines</summary>');
  });

  it('seeds of other scores keep a line each; the rows are folded in <details>', () => {
    expect(lines.filter((l) => l.includes('| linear | 100% |'))).toHaveLength(12);
    expect(md.indexOf('<details>')).toBeLessThan(md.findIndex((l) => l.startsWith('| encoder |')));
    expect(md.at(-2)).toBe('</details>');
  });
});
