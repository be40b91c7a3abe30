import { readdir } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { KERMANY_CLASS_PATTERN, KERMANY_PATIENT_PATTERN, classFromName, patientFromName } from './patient.ts';
import {
  DEFAULT_NORMAL_CLASSES,
  type DatasetAdapter,
  type Entry,
  IMAGE_EXTENSIONS,
  type Problem,
  type Split,
  isNormalClass,
} from './types.ts';

/**
 * A folder per class, optionally under a folder per split:
 *   <root>/<train|val|validation|test>/<CLASS>/*.png|jpg|jpeg   or   <root>/<CLASS>/*.png|jpg|jpeg
 * Classes named in `normalClasses` are label 0, every other class is abnormal (1). Each image keeps
 * its class (its folder's name, or what `classPattern` finds in an abnormal image's file name:
 * Kermany's bacteria and virus inside PNEUMONIA) for `eval --target classes`.
 */
export const folderOptions = z
  .object({
    normalClasses: z.array(z.string()).min(1).default(DEFAULT_NORMAL_CLASSES),
    /** regex on the file's base name; first group = patient id; null = unknown patients */
    patientPattern: z.string().nullable().default(KERMANY_PATIENT_PATTERN),
    /** regex on an abnormal image's base name; first group = its class; null or no match = its folder's name */
    classPattern: z.string().nullable().default(KERMANY_CLASS_PATTERN),
  })
  .strict();
export type FolderOptions = z.infer<typeof folderOptions>;

const SPLIT_DIRS: Record<string, Split> = { train: 'train', val: 'val', validation: 'val', test: 'test' };

async function subdirs(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true });
  return items
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

export const folder: DatasetAdapter<FolderOptions> = {
  name: 'folder',
  options: folderOptions,
  async scan(root, opts) {
    let top: string[];
    try {
      top = await subdirs(root);
    } catch (e) {
      throw new Error(`folder adapter: cannot read ${root} (${(e as Error).message}): point it at a data set folder`);
    }
    const splitDirs = top.filter((d) => SPLIT_DIRS[d.toLowerCase()]);
    const groups: { dir: string; split?: Split }[] = splitDirs.length
      ? splitDirs.map((d) => ({ dir: join(root, d), split: SPLIT_DIRS[d.toLowerCase()] }))
      : [{ dir: root }];
    const entries: Entry[] = [];
    const problems: Problem[] = [];
    for (const g of groups) {
      for (const cls of await subdirs(g.dir)) {
        const classDir = join(g.dir, cls);
        const files = (await readdir(classDir, { withFileTypes: true })).filter((f) => f.isFile());
        for (const f of files.map((x) => x.name).sort()) {
          if (f.startsWith('.')) continue;
          const path = join(classDir, f);
          if (!IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())) {
            problems.push({ where: path, kind: 'not an image', message: `not a .png/.jpg/.jpeg image: skipped` });
            continue;
          }
          const base = basename(f, extname(f));
          const patient = patientFromName(base, opts.patientPattern ?? undefined);
          const normal = isNormalClass(cls, opts.normalClasses);
          entries.push({
            id: relative(root, path).split(sep).join('/'),
            path,
            label: normal ? 0 : 1,
            class: normal ? cls : classFromName(base, opts.classPattern, cls),
            ...(g.split ? { split: g.split } : {}),
            ...(patient ? { patient } : {}),
          });
        }
      }
    }
    if (entries.length === 0) {
      throw new Error(
        `folder adapter: no images under ${root}: expected <root>/<split>/<CLASS>/*.png|jpg or <root>/<CLASS>/*.png|jpg`,
      );
    }
    return { entries, problems };
  },
};
