import { deriveSeed, hashString } from '@cxr-ssl/data';
import { z } from 'zod';

/** A labelled training image as label fractions see it: its cache row, id, label and patient. */
export interface LabelledImage {
  row: number;
  id: string;
  label: 0 | 1;
  patient?: string;
}

export const FractionDraw = z.object({
  fraction: z.number().gt(0).max(1),
  /** train images of each class in the pool: [normal, abnormal] */
  pool: z.tuple([z.number().int(), z.number().int()]),
  /** images drawn per class: [normal, abnormal] */
  drawn: z.tuple([z.number().int(), z.number().int()]),
  ids: z.array(z.string()),
});
export type FractionDraw = z.infer<typeof FractionDraw> & { rows: number[] };

export const FractionsFile = z.object({
  version: z.literal(1),
  seed: z.number().int(),
  /** what the draw was made from, e.g. `kermany-128 train` */
  source: z.string(),
  draws: z.array(FractionDraw),
});
export type FractionsFile = z.infer<typeof FractionsFile>;

/**
 * Nested, class-stratified label fractions drawn by patient.
 *
 * Each patient joins the stratum of its images' majority label (ties: abnormal) and every stratum
 * ranks its patients by hash(patient, seed). A fraction f takes, per stratum, whole patients in
 * that order until at least max(1, round(f x stratum images)) images are in. Every fraction is a
 * prefix of the same ranking, so 1 % ⊂ 10 % ⊂ 100 % for one seed; no patient is ever split, so a
 * stratum overshoots its target by less than one patient's images; each class keeps >= 1 image.
 * Images without a patient count as their own patient. Depends only on (ids, patients, seed).
 */
export function drawFractions(images: readonly LabelledImage[], fractions: readonly number[], seed: number): FractionDraw[] {
  for (const f of fractions) {
    if (!(f > 0 && f <= 1)) throw new Error(`label fraction ${f} must be in (0, 1]`);
  }
  const patients = new Map<string, LabelledImage[]>();
  for (const im of images) {
    const key = im.patient !== undefined ? `patient:${im.patient}` : `image:${im.id}`;
    const g = patients.get(key);
    if (g) g.push(im);
    else patients.set(key, [im]);
  }
  const strata: { key: string; images: LabelledImage[]; h: number }[][] = [[], []];
  for (const [key, imgs] of patients) {
    const abnormal = imgs.filter((i) => i.label === 1).length;
    strata[2 * abnormal >= imgs.length ? 1 : 0].push({ key, images: imgs, h: deriveSeed(seed, hashString(key)) });
  }
  for (const s of strata) s.sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : 1));
  const pool: [number, number] = [0, 0];
  for (const im of images) pool[im.label]++;
  const stratumSize = strata.map((s) => s.reduce((n, p) => n + p.images.length, 0));

  return fractions.map((fraction) => {
    const chosen: LabelledImage[] = [];
    strata.forEach((stratum, c) => {
      if (stratum.length === 0) return;
      const target = Math.max(1, Math.round(fraction * stratumSize[c]));
      let taken = 0;
      for (const p of stratum) {
        if (taken >= target) break;
        chosen.push(...p.images);
        taken += p.images.length;
      }
    });
    chosen.sort((a, b) => a.row - b.row);
    const drawn: [number, number] = [0, 0];
    for (const im of chosen) drawn[im.label]++;
    return { fraction, pool, drawn, ids: chosen.map((i) => i.id), rows: chosen.map((i) => i.row) };
  });
}
