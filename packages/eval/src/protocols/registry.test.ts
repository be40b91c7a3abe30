import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureDir, openCache, prepare } from '@cxr-ssl/data';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateEncoder } from '../evaluate-encoder.ts';
import { randomEncoder } from '../identity.ts';
import { evalFlags } from '../settings-flags.ts';
import { EvalSettings, recordedOptions } from '../settings.ts';
import { PROTOCOL_NAMES, PROTOCOLS } from './index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../../../..');
/** where code lives (tests aside: they test particular protocols on purpose) */
const CODE = ['packages/eval/src', 'packages/cli/src', 'packages/train/src', 'tools'];
/** the interface and the registry: the only files besides a protocol's own that may name it */
const SHARED = ['protocol.ts', 'index.ts'];
/** the `linear` command is named after the study's protocol, which it runs */
const EXEMPT: Record<string, RegExp> = { 'packages/cli/src/commands/linear.ts': /^\s*name: 'linear',$/ };

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(join(ROOT, rel)).isDirectory()) return files(rel);
    return /\.(ts|mjs)$/.test(name) && !/\.test\.ts$|\.test-helper\.ts$/.test(name) ? [rel] : [];
  });
}
/** the code without its comments: naming a protocol in prose is fine, dispatching on it is not */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, '')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

describe('the protocol registry', () => {
  it('each protocol is its own file, imported by its registry line; no other file in protocols/ but the interface and the registry', () => {
    const registry = readFileSync(join(HERE, 'index.ts'), 'utf8');
    for (const p of PROTOCOL_NAMES) {
      expect(existsSync(join(HERE, `${p}.ts`)), `protocols/${p}.ts`).toBe(true);
      expect(registry).toMatch(new RegExp(`import \\{ ${p} \\} from './${p}\\.ts'`));
    }
    const own = readdirSync(HERE).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !SHARED.includes(f));
    expect(own.sort()).toEqual(PROTOCOL_NAMES.map((p) => `${p}.ts`).sort());
  });

  it('every option has a default and help text, and every flag of EvalSettings is one flag', () => {
    for (const p of PROTOCOL_NAMES) {
      const { options } = PROTOCOLS[p];
      expect(() => options.parse({}), `${p}: every option has a default`).not.toThrow();
      for (const [field, s] of Object.entries(options.shape)) expect((s as { description?: string }).description, `${p}.${field} has no .describe()`).toBeTruthy();
    }
    const flags = evalFlags();
    const names = flags.map((f) => f.key);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    // EvalSettings holds each protocol's defaults under its name
    const defaults = EvalSettings.parse({});
    for (const p of PROTOCOL_NAMES) expect(defaults[p]).toEqual(PROTOCOLS[p].options.parse({}));
    expect(EvalSettings.safeParse({ protocols: 'knn,knn' }).error?.issues[0].message).toMatch(/each protocol once/);
    expect(EvalSettings.safeParse({ protocols: ['nope'] }).success).toBe(false);
  });

  it("no code outside a protocol's own file and the registry names it as a string (a grep)", () => {
    const all = CODE.flatMap(files);
    expect(all.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const p of PROTOCOL_NAMES) {
      const allowed = new Set([`packages/eval/src/protocols/${p}.ts`, ...SHARED.map((f) => `packages/eval/src/protocols/${f}`)]);
      const literal = new RegExp(`(['"\`])${p}\\1`);
      for (const f of all.filter((x) => !allowed.has(x))) {
        code(readFileSync(join(ROOT, f), 'utf8'))
          .split('\n')
          .forEach((line, i) => {
            if (literal.test(line) && !EXEMPT[f]?.test(line)) offenders.push(`${f}:${i + 1} names ${p}: ${line.trim().slice(0, 100)}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  describe('each protocol scores a random encoder on fixture X-rays (32 px), with its defaults and one epoch where it has epochs', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cxr-protocols-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    it.each(PROTOCOL_NAMES)('%s', async (p) => {
      await prepare({ adapter: 'folder', root: fixtureDir(), sizes: [32], cacheDir: join(tmp, 'cache'), name: 'fx', workers: 0, valFraction: 0.1 });
      const cache = openCache(join(tmp, 'cache'), 'fx', 32);
      try {
        const quick = 'epochs' in PROTOCOLS[p].options.shape ? { epochs: 1 } : {};
        const settings = EvalSettings.parse({ protocols: [p], features: 'ort', provider: 'cpu', [p]: quick });
        const enc = await randomEncoder('vgg-small-bn', 0);
        const [row] = await evaluateEncoder(enc, cache, settings, { outDir: join(tmp, p), seed: 0 });
        expect(row).toMatchObject({ label: 'random', protocol: p, n_test: cache.indices('test').length, n_train: cache.indices('train').length });
        expect(row.options).toEqual(recordedOptions(p, settings));
        expect(row.scores!.every((x) => x >= 0 && x <= 1)).toBe(true);
        // something was learnt or looked up: not one score for every test image
        expect(new Set(row.scores).size).toBeGreaterThan(1);
      } finally {
        cache.close();
      }
    }, 120_000);
  });
});
