import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLERS } from '@cxr-ssl/data';
import { HEADS } from '@cxr-ssl/models';
import { describe, expect, it } from 'vitest';
import { METHODS } from './index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** where code lives; tests are left out (they test particular methods on purpose) */
const CODE = ['packages/atomic/src', 'packages/data/src', 'packages/models/src', 'packages/train/src', 'packages/train/python/cxr_torch', 'packages/eval/src', 'packages/cli/src', 'tools'];
/** a probe studies one method's shortcut by design */
const EXEMPT = ['tools/probe/'];
const REGISTRIES = ['packages/data/src/samplers/index.ts', 'packages/models/src/tasks/index.ts', 'packages/train/src/methods/index.ts'];
const own = (m: string) => [`packages/data/src/samplers/${m}.ts`, `packages/models/src/tasks/${m}.ts`, `packages/train/src/methods/${m}.ts`];

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(join(ROOT, rel)).isDirectory()) return files(rel);
    return /\.(ts|mjs|py|sh)$/.test(name) && !/\.test\.ts$|^test_/.test(name) ? [rel] : [];
  });
}

/** the code without its comments: naming a method in prose is fine, dispatching on it is not */
function code(text: string, file: string): string {
  const blank = (c: string) => c.replace(/[^\n]/g, ''); // keeps line numbers
  if (file.endsWith('.py') || file.endsWith('.sh')) return text.replace(/"""[\s\S]*?"""/g, blank).replace(/#.*$/gm, '');
  return text.replace(/\/\*[\s\S]*?\*\//g, blank).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('the method registry', () => {
  it('every method has its three parts, and only the registries list them', () => {
    expect(Object.keys(SAMPLERS).sort()).toEqual(Object.keys(METHODS).sort());
    expect(Object.keys(HEADS).sort()).toEqual(Object.keys(METHODS).sort());
  });

  it("no file outside a method's own files and the registries names it (a grep)", () => {
    const all = CODE.flatMap(files).filter((f) => !EXEMPT.some((e) => f.startsWith(e)));
    expect(all.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const m of Object.keys(METHODS)) {
      const allowed = new Set([...own(m), ...REGISTRIES]);
      const word = new RegExp(`\\b${m}\\b`, 'i');
      for (const f of all) {
        if (allowed.has(f)) continue;
        const lines = code(readFileSync(join(ROOT, f), 'utf8'), f).split('\n');
        lines.forEach((line, i) => {
          if (word.test(line)) offenders.push(`${relative(ROOT, join(ROOT, f))}:${i + 1} names ${m}: ${line.trim().slice(0, 100)}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});
