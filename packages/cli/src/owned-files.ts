import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@cxr-ssl/atomic';
import { z } from 'zod';
import { UsageError } from './config-file.ts';

/**
 * A marker file in an output folder that lists the paths a command wrote there (relative to the
 * folder), so that its next run removes exactly those and refuses to touch anything else: nothing
 * is deleted that cxr-ssl did not write (a user's `runs/` beside a `demo --dir .`).
 */
const Marker = z.object({ by: z.string(), paths: z.array(z.string()) });

export interface OwnedFolder {
  /** records `paths` as written by this command, before they are written (an interrupted run still owns them) */
  claim(paths: string[]): void;
}

function readMarker(file: string): string[] {
  if (!existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = Marker.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${file}: not a cxr-ssl marker file ; remove it if you made it`);
  return parsed.data.paths;
}

/**
 * Takes `dir` for a command that will write `planned` paths there: the ones an earlier run of it
 * listed in its marker are removed; any other that exists is a UsageError naming it and `flag`,
 * before anything is removed.
 */
export function takeOutputFolder(dir: string, marker: string, by: string, planned: string[], flag: string): OwnedFolder {
  const file = join(dir, marker);
  const owned = new Set(readMarker(file));
  const present = planned.filter((p) => existsSync(join(dir, p)));
  const foreign = present.filter((p) => !owned.has(p));
  if (foreign.length > 0) {
    throw new UsageError(`${dir} holds ${foreign.join(', ')}, which no earlier ${by} wrote there (its ${marker} does not list them): choose another ${flag} (a new or empty folder), or move them away`);
  }
  for (const p of present) rmSync(join(dir, p), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const claimed = new Set([...owned].filter((p) => existsSync(join(dir, p))));
  const write = () => writeFileAtomic(file, `${JSON.stringify({ by, paths: [...claimed].sort() }, null, 1)}\n`);
  write();
  return {
    claim(paths) {
      for (const p of paths) claimed.add(p);
      write();
    },
  };
}
