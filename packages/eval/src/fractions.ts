import { deriveSeed, hashString } from '@cxr-ssl/data';
import { z } from 'zod';

/** A labelled training image as label fractions see it: its cache row, id, labels under the target and patient. */
export interface LabelledImage {
  row: number;
  id: string;
  /** its class (one), or its findings (`none` when it has none) */
  labels: readonly string[];
  patient?: string;
}

const Counts = z.record(z.string(), z.number().int());
export const FractionDraw = z.object({
  fraction: z.number().gt(0).max(1),
  /** train images of each stratum in the pool */
  pool: Counts,
  /** images drawn per stratum */
  drawn: Counts,
  ids: z.array(z.string()),
});
export type FractionDraw = z.infer<typeof FractionDraw> & { rows: number[] };

export const FractionsFile = z.object({
  version: z.literal(2),
  seed: z.number().int(),
  /** what the draw was made from, e.g. `kermany-128 train` */
  source: z.string(),
  /** the target whose labels made the strata */
  target: z.string(),
  draws: z.array(FractionDraw),
});
export type FractionsFile = z.infer<typeof FractionsFile>;

/**
 * How a patient's images pick its stratum: `majority` (one label per image: the label most of its
 * images have; ties go to the label with fewer images in the pool, then to the earlier name) or
 * `rarest` (several per image: the rarest label any of its images has, by images in the pool).
 */
export type StratumRule = 'majority' | 'rarest';

/**
 * Nested, stratified label fractions drawn by patient.
 *
 * Each patient joins one stratum (`rule`) and every stratum ranks its patients by hash(patient,
 * seed). A fraction f takes, per stratum, whole patients in that order until at least
 * max(1, round(f x stratum images)) images are in. Every fraction is a prefix of the same ranking,
 * so 1 % ⊂ 10 % ⊂ 100 % for one seed; no patient is ever split, so a stratum overshoots its target by
 * less than one patient's images; each stratum keeps >= 1 patient, so with `rarest` every finding
 * that is some patient's rarest keeps a positive image at every fraction. Images without a patient
 * count as their own patient. Depends only on (ids, labels, patients, seed).
 */
export function drawFractions(images: readonly LabelledImage[], fractions: readonly number[], seed: number, rule: StratumRule = 'majority'): FractionDraw[] {
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
  const inPool = new Map<string, number>();
  for (const im of images) for (const l of im.labels) inPool.set(l, (inPool.get(l) ?? 0) + 1);
  // fewer images in the pool first, then the earlier name (abnormal before normal, as before strata had names)
  const rarer = (a: string, b: string) => inPool.get(a)! - inPool.get(b)! || (a < b ? -1 : a > b ? 1 : 0);
  const stratumOf = (imgs: LabelledImage[]): string => {
    const count = new Map<string, number>();
    for (const im of imgs) for (const l of im.labels) count.set(l, (count.get(l) ?? 0) + 1);
    const labels = [...count.keys()];
    if (rule === 'rarest') return labels.sort(rarer)[0];
    return labels.sort((a, b) => count.get(b)! - count.get(a)! || rarer(a, b))[0];
  };
  const strata = new Map<string, { key: string; images: LabelledImage[]; h: number }[]>();
  for (const [key, imgs] of patients) {
    const s = stratumOf(imgs);
    const list = strata.get(s) ?? [];
    list.push({ key, images: imgs, h: deriveSeed(seed, hashString(key)) });
    strata.set(s, list);
  }
  const names = [...strata.keys()].sort();
  for (const s of strata.values()) s.sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : 1));
  const stratumSize = new Map(names.map((n) => [n, strata.get(n)!.reduce((k, p) => k + p.images.length, 0)]));
  const pool = Object.fromEntries(names.map((n) => [n, stratumSize.get(n)!]));

  return fractions.map((fraction) => {
    const chosen: LabelledImage[] = [];
    const drawn: Record<string, number> = {};
    for (const n of names) {
      const target = Math.max(1, Math.round(fraction * stratumSize.get(n)!));
      let taken = 0;
      for (const p of strata.get(n)!) {
        if (taken >= target) break;
        chosen.push(...p.images);
        taken += p.images.length;
      }
      drawn[n] = taken;
    }
    chosen.sort((a, b) => a.row - b.row);
    return { fraction, pool, drawn, ids: chosen.map((i) => i.id), rows: chosen.map((i) => i.row) };
  });
}
