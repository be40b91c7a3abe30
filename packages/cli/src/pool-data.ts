import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { cacheFiles } from '@cxr-ssl/data';
import { z } from 'zod';
import { UsageError } from './config-file.ts';
import { openPrepared } from './dataset.ts';

/** One prepared set of a pretext run, with its sampling weight (pooled pretraining). */
export type DataSet = { name: string; weight?: number };

const SET = /^([\w.+-]+)(?::(\d+(?:\.\d*)?|\.\d+))?$/;

/**
 * `--data`: one prepared set, or several pooled, `a,b` (each image of each set once per epoch) or
 * with weights `a:3,b:1` (each set's share of an epoch); a config's `data:` may be a list of names or
 * of `{ name, weight }`. Kept as that text (the flag's form), read by `dataSets`.
 */
export const dataArg = () =>
  z.preprocess(
    (v) => (Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? `${(x as DataSet).name}${(x as DataSet).weight === undefined ? '' : `:${(x as DataSet).weight}`}` : String(x))).join(',') : v),
    z.string().superRefine((s, ctx) => {
      const problem = dataProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

function dataProblem(s: string): string | undefined {
  const parts = s.split(',').map((p) => p.trim());
  const bad = parts.find((p) => !SET.test(p) || ['.', '..'].includes(dataSets(p)[0].name));
  if (bad !== undefined) return `'${bad}': give prepared set names (letters, digits, . _ + -), comma-separated, each with an optional weight (name:2), e.g. kermany,kermany-mini or kermany:3,kermany-mini:1`;
  const sets = dataSets(s);
  const twice = sets.find((d, i) => sets.findIndex((e) => e.name === d.name) !== i);
  if (twice) return `'${twice.name}' is named twice: give each set once (a weight, name:2, samples it more)`;
  if (sets.length === 1 && sets[0].weight !== undefined) return `a weight (${s}) shares an epoch among pooled sets: give two or more sets, or drop it`;
  if (sets.some((d) => d.weight === 0)) return 'a weight must be above 0: leave a set out instead';
  return undefined;
}

/** The sets of a `--data` value, in order. */
export function dataSets(data: string): DataSet[] {
  return data.split(',').map((p) => {
    const [, name, weight] = SET.exec(p.trim()) ?? [p, p.trim()];
    return weight === undefined ? { name } : { name, weight: Number(weight) };
  });
}

/**
 * Train images of the run's sets, each prepared at `size` (the bundled fixture is prepared on first
 * use). A pooled set prepared at other sizes only is a usage error naming both sets and sizes.
 */
export async function pooledTrainImages(o: { cacheDir: string; size: number; quiet: boolean }, sets: readonly DataSet[]): Promise<number> {
  if (sets.length > 1) {
    const dir = resolve(o.cacheDir);
    const missing = sets.find((s) => !existsSync(cacheFiles(dir, s.name, o.size).json));
    const ready = sets.find((s) => existsSync(cacheFiles(dir, s.name, o.size).json));
    const sizes = missing && preparedSizes(dir, missing.name);
    if (missing && ready && sizes?.length) {
      throw new UsageError(
        `--data: the pooled sets differ in size: ${ready.name} is prepared at ${o.size} px, ${missing.name} at ${sizes.join(', ')} px only; a pool samples sets of one size: prepare ${missing.name} at ${o.size} px (cxr-ssl prepare --source <its folder or csv> --name ${missing.name} --sizes ${o.size} --cache-dir ${o.cacheDir}) or pick --size ${sizes[0]} for both`,
      );
    }
  }
  let n = 0;
  for (const s of sets) {
    const cache = await openPrepared({ ...o, data: s.name });
    n += cache.indices('train').length;
    cache.close();
  }
  return n;
}

/** Sizes a set is prepared at in a cache folder (its `<name>-<size>.json` manifests). */
function preparedSizes(dir: string, name: string): number[] {
  if (!existsSync(dir)) return [];
  const re = new RegExp(`^${name.replace(/[.+]/g, '\\$&')}-(\\d+)\\.json$`);
  return readdirSync(dir)
    .flatMap((f) => re.exec(f)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b);
}
