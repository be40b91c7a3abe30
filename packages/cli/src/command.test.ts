import { METHODS, PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { arg, flagsOf, toggle } from './command.ts';
import { ReproduceConfig } from './commands/reproduce.ts';
import { COMMANDS, buildProgram } from './main.ts';
import { PretextOptions, TrainingFields } from './pretext-options.ts';

// Each option has one default, in one schema, that its flag and --help come from.

/** Fields a config file may give but no flag takes (a method's options as a mapping; --config itself). */
const CONFIG_ONLY: Record<string, string[]> = { pretext: ['taskOptions'], samples: ['taskOptions'], reproduce: ['config'] };

/** The object under a command schema's refinements and transforms. */
const objectOf = (schema: z.ZodType): Record<string, z.ZodType> => {
  let s = schema as unknown as { _zod: { def: { type: string; in?: z.ZodType } }; shape?: Record<string, z.ZodType> };
  while (s._zod.def.type === 'pipe') s = s._zod.def.in as unknown as typeof s;
  return s.shape ?? {};
};
const shapeKeys = (schema: z.ZodType) => Object.keys(objectOf(schema));
const fieldOf = (schema: z.ZodType, key: string) => objectOf(schema)[key];

describe('flags from the schema', () => {
  it("names each flag after its field, says an enum's choices and the field's default", () => {
    const schema = z.object({
      batchSize: z.coerce.number().default(32).meta(arg('<n>', 'batch size')),
      engine: z.enum(['auto', 'torch']).default('auto').meta(arg('<name>', 'the engine')),
      sizes: z.array(z.number()).default([128, 256]).meta(arg('<list>', 'sizes')),
      decay: z.coerce.number().optional().meta(arg('<f>', 'step: lr factor per epoch')),
      quiet: z.boolean().default(false).meta(toggle('no progress output')),
      hidden: z.record(z.string(), z.unknown()).default({}),
    });
    expect(flagsOf(schema.strict().superRefine(() => {}).transform((o) => o))).toEqual([
      { key: 'batchSize', syntax: '--batch-size <n>', help: 'batch size (default 32)' },
      { key: 'engine', syntax: '--engine <name>', help: 'auto | torch: the engine (default auto)' },
      { key: 'sizes', syntax: '--sizes <list>', help: 'sizes (default 128,256)' },
      { key: 'decay', syntax: '--decay <f>', help: 'step: lr factor per epoch' },
      { key: 'quiet', syntax: '--quiet', help: 'no progress output' },
    ]);
  });

  it('every command takes each field of its schema as a flag (but the config-only ones), and no help repeats a default by hand', () => {
    for (const spec of COMMANDS) {
      expect(spec.flags, spec.name).toBeUndefined();
      const flags = flagsOf(spec.schema);
      expect(flags.map((f) => f.key).sort(), spec.name).toEqual(shapeKeys(spec.schema).filter((k) => !CONFIG_ONLY[spec.name]?.includes(k)).sort());
      for (const f of flags) {
        // a field with a default of its own says it once, where --help adds it; the others may say how theirs is worked out
        const own = fieldOf(spec.schema, f.key).safeParse(undefined).data;
        if (own !== undefined) expect(f.help.replace(/ \(default [^()]*\)$/, ''), `${spec.name} ${f.syntax}`).not.toMatch(/\(default/);
      }
    }
  });

  it("pretext --help shows train's defaults: the one declaration of each", () => {
    const cmd = buildProgram().commands.find((c) => c.name() === 'pretext')!;
    const help = Object.fromEntries(cmd.options.map((o) => [o.long, o.description]));
    expect(help['--epochs']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.epochs}\\)$`));
    expect(help['--batch-size']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.batchSize}\\)$`));
    // the method's own where it has one (Method.lr), else train's
    expect(help['--lr']).toContain(`(default: the method's own where it has one, simclr ${METHODS.simclr.lr}; else ${PRETEXT_DEFAULTS.optimizer.lr})`);
    expect(help['--checkpoint-minutes']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.checkpointMinutes}\\)$`));
    expect(help['--momentum']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.optimizer.momentum}\\)$`));
    expect(help['--weight-decay']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.optimizer.weightDecay}\\)$`));
    expect(help['--encoder']).toMatch(new RegExp(`\\(default ${PRETEXT_DEFAULTS.encoder}\\)$`));
    expect(help['--engine']).toMatch(/^auto \| torch \| tfjs: .*\(default auto\)$/);
  });
});

describe("reproduce's pretext: block is pretext's schema", () => {
  it('has the same fields and the same defaults as the pretext command', () => {
    const grid = ReproduceConfig.parse({ data: { source: 'x', name: 'x' }, inits: ['rotation'] });
    const alone = PretextOptions.parse({ method: 'rotation' });
    const { options, ...settings } = grid.pretext;
    expect(options).toEqual({});
    expect(Object.keys(settings).sort()).toEqual(Object.keys(TrainingFields.shape).filter((k) => k in settings).sort());
    for (const key of Object.keys(TrainingFields.shape)) expect(settings[key as keyof typeof settings], key).toEqual(alone[key as keyof typeof alone]);
    expect(grid.encoder).toBe(alone.encoder);
  });

  it('refuses settings that do not fit together when the config is read, not when its run starts', () => {
    const grid = ReproduceConfig.safeParse({ data: { source: 'x', name: 'x' }, inits: ['rotation'], pretext: { schedule: 'step' } });
    expect(grid.error?.issues[0]).toMatchObject({ path: ['pretext', 'decay'], message: expect.stringMatching(/needs --decay/) });
    const render = ReproduceConfig.safeParse({ data: { source: 'x', name: 'x' }, inits: ['rotation'], pretext: { render: 'torch', engine: 'tfjs' } });
    expect(render.error?.issues[0]).toMatchObject({ path: ['pretext', 'render'], message: expect.stringMatching(/^--render torch needs the torch engine/) });
  });
});
