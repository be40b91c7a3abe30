import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBatch, SAMPLERS } from '@cxr-ssl/data';
import { fixtureImages } from '@cxr-ssl/data/testing';
import { encoderSpec, HEADS, initWeights } from '@cxr-ssl/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../engines/index.ts';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { TFJS_LOSSES } from '../engines/tfjs-losses.ts';
import { parseMethod } from '../method-options.ts';
import { torchTests } from '@cxr-ssl/torch/testing';
import { METHODS } from './index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const PY = relative(ROOT, PYTHON_PACKAGE_DIR);
/** where code lives; tests are left out (they test particular methods on purpose) */
const CODE = ['packages/atomic/src', 'packages/data/src', 'packages/models/src', 'packages/train/src', 'packages/torch/src', `${PY}/cxr_torch`, 'packages/eval/src', 'packages/cli/src', 'tools'];
/** a probe studies one method's shortcut by design */
const EXEMPT = ['tools/probe/'];
const REGISTRIES = ['packages/data/src/samplers/index.ts', 'packages/models/src/tasks/index.ts', 'packages/train/src/methods/index.ts', `${PY}/cxr_torch/methods/__init__.py`];
/** a method's own files: one per package, and the torch engine's hook where the method keeps state or a loss of its own */
const own = (m: string) => [`packages/data/src/samplers/${m}.ts`, `packages/models/src/tasks/${m}.ts`, `packages/train/src/methods/${m}.ts`];
const ownHook = (m: string) => `${PY}/cxr_torch/methods/${m}.py`;
const torch = torchTests('the method registry: one real step per method on torch');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || name.startsWith('.') || name === '__pycache__') return [];
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

/** the loss names the torch engine has hooks for (its registry, read by Python itself) */
function torchLosses(): string[] {
  const out = execFileSync(torch.python!, ['-c', 'import json; from cxr_torch.methods import HOOKS; print(json.dumps(sorted(HOOKS)))'], { cwd: PYTHON_PACKAGE_DIR, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('the method registry', () => {
  it('every method has its own files, and its registry lines import them (no method written inline)', () => {
    expect(Object.keys(SAMPLERS).sort()).toEqual(Object.keys(METHODS).sort());
    expect(Object.keys(HEADS).sort()).toEqual(Object.keys(METHODS).sort());
    for (const m of Object.keys(METHODS)) {
      for (const f of own(m)) expect(existsSync(join(ROOT, f)), f).toBe(true);
      // each registry line imports the method's own file: a method written inline in an index fails here
      for (const r of REGISTRIES.slice(0, 3)) expect(readFileSync(join(ROOT, r), 'utf8'), r).toMatch(new RegExp(`import \\{ ${m}\\w* \\} from './${m}\\.ts'`));
      expect(METHODS[m].sampler).toBe(SAMPLERS[m as keyof typeof SAMPLERS]);
    }
  });

  it('each loss a method names is implemented in every engine it claims', () => {
    const have: Record<string, string[]> = { tfjs: Object.keys(TFJS_LOSSES), ...(torch.python ? { torch: torchLosses() } : {}) };
    const missing: string[] = [];
    for (const [m, method] of Object.entries(METHODS)) {
      const loss = parseMethod(m, {}).loss.name;
      for (const engine of method.engines) if (have[engine] && !have[engine].includes(loss)) missing.push(`${m} claims ${engine}, which has no ${loss} loss`);
    }
    expect(missing).toEqual([]);
  });

  it("no file outside a method's own files and the registries names it or dispatches on its loss (a grep)", () => {
    const all = CODE.flatMap(files).filter((f) => !EXEMPT.some((e) => f.startsWith(e)));
    expect(all.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    const lossNames = new Set(Object.keys(METHODS).map((m) => parseMethod(m, {}).loss.name));
    for (const m of Object.keys(METHODS)) {
      const allowed = new Set([...own(m), ownHook(m), ...REGISTRIES]);
      const word = new RegExp(`\\b${m}\\b`, 'i');
      for (const f of all) {
        if (allowed.has(f)) continue;
        code(readFileSync(join(ROOT, f), 'utf8'), f)
          .split('\n')
          .forEach((line, i) => {
            if (word.test(line)) offenders.push(`${f}:${i + 1} names ${m}: ${line.trim().slice(0, 100)}`);
          });
      }
    }
    // dispatch on a loss name (`loss.name === 'nt-xent'`, `== 'info-nce'`) belongs in the engines' loss registries only
    for (const f of all.filter((f) => !REGISTRIES.includes(f) && !f.endsWith('tfjs-losses.ts') && !f.endsWith('engine.ts'))) {
      code(readFileSync(join(ROOT, f), 'utf8'), f)
        .split('\n')
        .forEach((line, i) => {
          for (const loss of lossNames) if (new RegExp(`(===?|!==?|case)\\s*['"]${loss}['"]`).test(line)) offenders.push(`${f}:${i + 1} dispatches on loss ${loss}: ${line.trim().slice(0, 100)}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  describe('each method runs one real step on each engine it claims, on fixture X-rays', () => {
    let images: Awaited<ReturnType<typeof fixtureImages>> = [];
    beforeAll(async () => {
      images = await fixtureImages(4, 64);
    });
    const encoder = encoderSpec('vgg-small-bn');
    const cases = Object.entries(METHODS).flatMap(([m, method]) => method.engines.map((e) => [m, e] as const));
    it.each(cases)('%s on %s', async (m, engineName) => {
      if (engineName === 'torch' && torch.skip) return;
      const run = parseMethod(m, {});
      const head = run.head(encoder);
      const batch = makeBatch({ get: (i) => images[i] }, run.method.sampler, run.samplerOptions, [0, 1, 2, 3], 7);
      const engine = await ENGINES[engineName](engineName === 'torch' ? { torch: { device: 'cpu', threads: 1 } } : { tfjs: { backend: 'wasm' } });
      try {
        await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01 }, loss: run.loss, seed: 1 });
        const r = await engine.trainStep(batch, run.scalarsAt(0, 10, 0.01));
        expect(Number.isFinite(r.loss)).toBe(true);
        const state = await engine.state();
        expect(state.weights.size).toBeGreaterThan(0);
      } finally {
        await engine.close();
      }
    });
  });
});
