import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data';
import { variantBase } from '@cxr-ssl/eval';
import { METHODS } from '@cxr-ssl/train';
import { describe, expect, it } from 'vitest';
import { ReproduceConfig } from './commands/reproduce.ts';
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
      const method = variantBase(name)!;
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
});
