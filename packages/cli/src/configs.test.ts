import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data';
import { METHODS } from '@cxr-ssl/train';
import { describe, expect, it } from 'vitest';
import { ReproduceConfig, variantMethod } from './commands/reproduce.ts';
import { readConfigFile, validate } from './config-file.ts';

// the committed study configs are what users run first: each must stay valid as the schemas move
const dir = join(repoRoot(), 'configs');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

describe('configs/', () => {
  it('holds the study configs', () => {
    expect(files).toEqual(expect.arrayContaining(['kermany-cpu.yaml', 'kermany-gpu.yaml', 'kermany-gpu-resnet18.yaml', 'nih-paper.yaml']));
  });

  it.each(files)('%s is a valid reproduce config, with method options each method accepts', (f) => {
    const cfg = validate(ReproduceConfig, readConfigFile(join(dir, f)), f);
    for (const [method, options] of Object.entries(cfg.pretext.options)) expect(() => METHODS[method].options.parse(options)).not.toThrow();
    for (const [name, options] of Object.entries(cfg.variants)) {
      const method = variantMethod(name);
      expect(() => METHODS[method].options.parse({ ...cfg.pretext.options[method], ...options })).not.toThrow();
    }
  });

  it('refuses an init that is neither a method, a reference nor a variant, and a variant of no method', () => {
    const base = { data: { source: 'x', name: 'x' }, inits: ['rotation', 'rotation+mask'] };
    expect(ReproduceConfig.safeParse({ ...base, variants: { 'rotation+mask': { augment: [{ name: 'mask' }] } } }).success).toBe(true);
    const unknown = ReproduceConfig.safeParse(base);
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0].message).toMatch(/unknown init 'rotation\+mask'.*variants:/);
    const orphan = ReproduceConfig.safeParse({ ...base, inits: ['spin+x'], variants: { 'spin+x': {} } });
    expect(orphan.error?.issues[0].message).toMatch(/'spin\+x' names no method/);
  });

  it("takes the protocols' options under eval: (from their schemas, defaults filled), and points an older top-level linear: there", () => {
    const base = { data: { source: 'x', name: 'x' }, inits: ['random'] };
    const cfg = ReproduceConfig.parse({ ...base, eval: { protocols: ['knn'], knn: { k: 5 }, linear: { epochs: 3 } } });
    expect(cfg.eval.knn).toEqual({ k: 5, temperature: 0.07, standardise: true });
    expect(cfg.eval.linear).toMatchObject({ epochs: 3, hidden: 256 });
    expect(cfg.eval.finetune).toMatchObject({ epochs: 10, hidden: 256, engine: 'auto' });
    const old = ReproduceConfig.safeParse({ ...base, linear: { epochs: 10, hidden: 256 } });
    expect(old.error?.issues[0].message).toMatch(/linear: moved into eval: \(the head: eval\.linear\.epochs/);
    expect(ReproduceConfig.safeParse({ ...base, eval: { knn: { k: 0 } } }).error?.issues[0].path).toEqual(['eval', 'knn', 'k']);
  });
});
