import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@cxr-ssl/data';
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
  });
});
