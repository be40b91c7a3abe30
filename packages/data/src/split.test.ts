import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters/index.ts';
import type { Entry } from './adapters/types.ts';
import { carveValidation } from './split.ts';
import { fixtureDir } from './testing/index.ts';

function synthetic(): Entry[] {
  // 300 images of 100 patients (1-5 images each), plus 20 test images
  const out: Entry[] = [];
  for (let p = 0; p < 100; p++)
    for (let k = 0; k < 1 + (p % 5); k++) out.push({ id: `p${p}-${k}`, path: `/x/p${p}-${k}.png`, label: (p % 2) as 0 | 1, patient: `p${p}` });
  for (let t = 0; t < 20; t++) out.push({ id: `t${t}`, path: `/x/t${t}.png`, label: 0, split: 'test' });
  return out;
}

describe('carveValidation', () => {
  it('is deterministic, keeps test, and never splits a patient', () => {
    const a = carveValidation(synthetic(), { fraction: 0.1, seed: 3 });
    expect(carveValidation(synthetic(), { fraction: 0.1, seed: 3 })).toEqual(a);
    expect(a.filter((e) => e.split === 'test')).toHaveLength(20);
    const val = a.filter((e) => e.split === 'val');
    const train = a.filter((e) => e.split === 'train');
    // 10% of 300 = 30, overshooting by at most one patient (<= 5 images)
    expect(val.length).toBeGreaterThanOrEqual(30);
    expect(val.length).toBeLessThan(35);
    const valPatients = new Set(val.map((e) => e.patient));
    expect(train.some((e) => valPatients.has(e.patient))).toBe(false);
    const other = carveValidation(synthetic(), { fraction: 0.1, seed: 4 }).filter((e) => e.split === 'val');
    expect(other.map((e) => e.id)).not.toEqual(val.map((e) => e.id));
  });

  it('does not depend on input order', () => {
    const ids = (es: Entry[]) => es.filter((e) => e.split === 'val').map((e) => e.id).sort();
    const fwd = carveValidation(synthetic(), { seed: 1 });
    const rev = carveValidation(synthetic().reverse(), { seed: 1 });
    expect(ids(rev)).toEqual(ids(fwd));
  });

  it('leaves an existing val split alone and handles fraction 0', () => {
    const es = synthetic();
    es[0].split = 'val';
    expect(carveValidation(es).filter((e) => e.split === 'val')).toHaveLength(1);
    expect(carveValidation(synthetic(), { fraction: 0 }).some((e) => e.split === 'val')).toBe(false);
    expect(() => carveValidation(synthetic(), { fraction: 1 })).toThrow(/\[0, 1\)/);
  });

  it('carves the fixture by patient', async () => {
    const { entries } = await ADAPTERS.folder.scan(fixtureDir(), ADAPTERS.folder.options.parse({}));
    const out = carveValidation(entries, { fraction: 0.2, seed: 0 });
    const val = out.filter((e) => e.split === 'val');
    expect(val.length).toBeGreaterThanOrEqual(13);
    const valPatients = new Set(val.map((e) => e.patient ?? e.id));
    expect(out.filter((e) => e.split === 'train').some((e) => valPatients.has(e.patient ?? e.id))).toBe(false);
  });
});
