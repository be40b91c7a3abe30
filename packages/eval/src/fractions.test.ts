import { basename } from 'node:path';
import { KERMANY_PATIENT_PATTERN, patientFromName } from '@cxr-ssl/data';
import { describe, expect, it } from 'vitest';
import { type LabelledImage, drawFractions } from './fractions.ts';
import { loadFixture, splitIndices } from '@cxr-ssl/data/testing';

/** The fixture's train split as labelled images, patients from the Kermany file names. */
async function fixtureTrain(): Promise<LabelledImage[]> {
  const fx = await loadFixture(16);
  return splitIndices(fx, 'train').map((row) => {
    const id = basename(fx.files[row]);
    return { row, id, labels: [fx.labels[row] === 1 ? 'abnormal' : 'normal'], patient: patientFromName(id, KERMANY_PATIENT_PATTERN) };
  });
}

describe('drawFractions on the fixture (32 NORMAL images of 32 patients, 32 PNEUMONIA images of 20 patients)', () => {
  it('draws max(1, round(f x class)) images per class, whole patients, nested 1% ⊂ 10% ⊂ 100%', async () => {
    const images = await fixtureTrain();
    const patientsOf = (ids: string[]) => new Set(images.filter((i) => ids.includes(i.id)).map((i) => i.patient));
    expect(new Set(images.filter((i) => i.labels[0] === 'abnormal').map((i) => i.patient)).size).toBe(20);
    for (const seed of [0, 1, 7]) {
      const [p1, p10, p100] = drawFractions(images, [0.01, 0.1, 1], seed);
      expect(p1.pool).toEqual({ normal: 32, abnormal: 32 });
      // NORMAL: one image per patient, so the draw is exact
      expect([p1.drawn.normal, p10.drawn.normal, p100.drawn.normal]).toEqual([1, 3, 32]);
      expect(p100.drawn.abnormal).toBe(32);
      expect(p100.ids.length).toBe(64);
      // PNEUMONIA: whole patients (1-3 images), so the draw reaches the target and overshoots by < one patient
      for (const [d, target] of [
        [p1, 1],
        [p10, 3],
      ] as const) {
        expect(d.drawn.abnormal).toBeGreaterThanOrEqual(target);
        expect(d.drawn.abnormal).toBeLessThan(target + 3);
        // no patient straddles the draw
        const chosen = patientsOf(d.ids);
        for (const im of images) if (chosen.has(im.patient)) expect(d.ids).toContain(im.id);
        expect(d.rows).toEqual(images.filter((i) => d.ids.includes(i.id)).map((i) => i.row));
      }
      for (const id of p1.ids) expect(p10.ids).toContain(id);
      for (const id of p10.ids) expect(p100.ids).toContain(id);
    }
  });

  it('is a pure function of (images, seed): same seed same draw, another seed another', async () => {
    const images = await fixtureTrain();
    const a = drawFractions(images, [0.1, 0.5], 3);
    expect(drawFractions([...images].reverse(), [0.1, 0.5], 3).map((d) => d.ids)).toEqual(a.map((d) => d.ids));
    expect(drawFractions(images, [0.5], 4)[0].ids).not.toEqual(a[1].ids);
    // the 10 % draw does not depend on which other fractions were asked for
    expect(drawFractions(images, [0.1], 3)[0].ids).toEqual(a[0].ids);
  });

  it('puts a mixed-label patient in the stratum of its majority label', () => {
    const images: LabelledImage[] = [
      { row: 0, id: 'a1', labels: ['abnormal'], patient: 'a' },
      { row: 1, id: 'a2', labels: ['abnormal'], patient: 'a' },
      { row: 2, id: 'a3', labels: ['normal'], patient: 'a' },
      { row: 3, id: 'b1', labels: ['normal'], patient: 'b' },
    ];
    const [d] = drawFractions(images, [0.01], 0);
    expect(d.ids).toEqual(['a1', 'a2', 'a3', 'b1']);
    // the strata's images: patient a (3 images) is abnormal's, b normal's
    expect(d.drawn).toEqual({ abnormal: 3, normal: 1 });
  });

  it("'rarest': a patient joins the stratum of its rarest finding, so a finding of 2 patients in 300 keeps a positive at 1 %", () => {
    // 300 patients: 250 of one image with no finding, 48 of one Effusion image, 2 of an Effusion and an Effusion|Hernia image
    const images: LabelledImage[] = Array.from({ length: 300 }, (_, i) => ({
      row: i,
      id: `i${i}`,
      patient: `p${i}`,
      labels: i < 250 ? ['none'] : i < 298 ? ['Effusion'] : ['Effusion', 'Hernia'],
    }));
    images.push({ row: 300, id: 'i300', patient: 'p298', labels: ['Effusion'] }, { row: 301, id: 'i301', patient: 'p299', labels: ['Effusion'] });
    for (const seed of [0, 1, 2]) {
      const [d] = drawFractions(images, [0.01], seed, 'rarest');
      expect(d.pool).toEqual({ Effusion: 48, Hernia: 4, none: 250 });
      expect(d.drawn).toEqual({ Effusion: 1, Hernia: 2, none: 3 });
      expect(d.rows.filter((r) => r === 298 || r === 299)).toHaveLength(1);
      // by majority, the Hernia patients (2 Effusion images, 1 Hernia) go to Effusion's stratum, which 1 % may draw without them
      expect(drawFractions(images, [0.01], seed, 'majority')[0].pool).toEqual({ Effusion: 52, none: 250 });
    }
  });

  it('rejects fractions outside (0, 1]', () => {
    expect(() => drawFractions([], [0], 0)).toThrow(/label fraction 0 must be in \(0, 1\]/);
    expect(() => drawFractions([], [1.5], 0)).toThrow(/1.5/);
  });
});
