import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readNihMetadata } from '../nih-metadata.ts';
import type { DatasetAdapter, Entry, Problem } from './types.ts';

/**
 * NIH ChestX-ray14 as people download it: `root` holds the labels CSV, the official split lists
 * and the images, either in `images/` or as the 12 archives unpack (`images_001/images/` ...
 * `images_012/images/`), or in root itself (a few images copied out, e.g. ../shared/data/cxr-samples,
 * with `metadataDir` naming where the CSV and lists are). 'No Finding' is normal (0), any finding abnormal (1); the findings are
 * kept. train_val_list -> the training pool (val is carved out of it by patient), test_list -> test.
 */
export const nihOptions = z
  .object({
    /** where Data_Entry_2017(_v2020).csv and the split lists are, when not in root */
    metadataDir: z.string().optional(),
    /** labels CSV (name in metadataDir, or a path); default the newest Data_Entry file there */
    labelsFile: z.string().optional(),
    /** prepare the images that are on disk when some listed ones are missing (partial download) */
    allowMissing: z.boolean().default(false),
  })
  .strict();
export type NihOptions = z.infer<typeof nihOptions>;

/** root itself, `images/`, `images_NNN/images/` and `images_NNN/` (archives unpacked flat) under root. */
async function imageDirs(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    throw new Error(`nih adapter: cannot read ${root} (${(e as Error).message}): point it at the NIH ChestX-ray14 folder`);
  }
  const dirs: string[] = [root];
  if (names.includes('images')) dirs.push(join(root, 'images'));
  for (const n of names.filter((x) => /^images_\d+$/.test(x)).sort()) {
    const inner = join(root, n, 'images');
    const hasInner = (await readdir(join(root, n), { withFileTypes: true })).some((d) => d.isDirectory() && d.name === 'images');
    dirs.push(hasInner ? inner : join(root, n));
  }
  return dirs;
}

/** file name -> absolute path of every PNG in the image folders; a name found twice is a problem. */
async function findImages(root: string, problems: Problem[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const dir of await imageDirs(root)) {
    for (const f of await readdir(dir, { withFileTypes: true })) {
      if (!f.isFile() || !/\.png$/i.test(f.name)) continue;
      const prev = found.get(f.name);
      if (prev) problems.push({ where: join(dir, f.name), kind: 'same file name twice', message: `same name as ${prev}: the first one is used` });
      else found.set(f.name, join(dir, f.name));
    }
  }
  return found;
}

export const nih: DatasetAdapter<NihOptions> = {
  name: 'nih',
  options: nihOptions,
  async scan(root, opts) {
    const metaDir = opts.metadataDir ?? root;
    const { records, problems, csvFile } = await readNihMetadata(metaDir, opts.labelsFile);
    const onDisk = await findImages(root, problems);
    const entries: Entry[] = [];
    const missing: string[] = [];
    for (const r of records) {
      const path = onDisk.get(r.image);
      if (!path) {
        missing.push(r.image);
        continue;
      }
      entries.push({ id: r.image, path, label: r.label, findings: r.findings, split: r.split, patient: r.patient });
    }
    if (missing.length) {
      const what = `${missing.length} of ${records.length} images listed in ${csvFile} are not in ${root}, ${root}/images or ${root}/images_NNN/images (first: ${missing.slice(0, 5).join(', ')})`;
      if (!opts.allowMissing) {
        throw new Error(`nih adapter: ${what}. Unpack all 12 archives there, or pass allowMissing (--allow-missing) to prepare the ${entries.length} that are present`);
      }
      problems.push({ where: csvFile, kind: 'missing image', message: `${what}: skipped (allowMissing)` });
    }
    const extra = onDisk.size - entries.length;
    if (extra > 0) problems.push({ where: root, kind: 'image not in the metadata', message: `${extra} PNG files are not in the labels CSV or the split lists: ignored` });
    if (!entries.length) throw new Error(`nih adapter: none of the ${records.length} images listed in ${csvFile} is under ${root}: nothing to prepare`);
    return { entries, problems };
  },
};
