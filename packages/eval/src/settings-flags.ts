import type { z } from 'zod';
import { PROTOCOL_NAMES, PROTOCOLS, type ProtocolName } from './protocols/index.ts';
import { EvalInputError } from './identity.ts';
import { EvalGrid, EvalSettings, ExtractionSettings } from './settings.ts';

/** One field of EvalSettings as a command-line flag. */
export interface OptionFlag {
  /** where the value goes in EvalSettings: [option] or [protocol, option] */
  path: string[];
  /** the flag's name in camelCase (the option's key in a command schema): `ftLr` is --ft-lr */
  key: string;
  /** what its value is called in --help: <n>, <x>, <name>, <list> */
  value: string;
  /** the option's help text, its protocol and its default */
  help: string;
  /** the field's schema, optional and without its default: an unset flag leaves the default to EvalSettings */
  schema: z.ZodType;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

type Def = { type: string; innerType?: z.ZodType; out?: z.ZodType };
const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;
/** The schema under defaults, prefaults and preprocessing: what the value is. */
function core(s: z.ZodType): z.ZodType {
  const d = defOf(s);
  if ((d.type === 'default' || d.type === 'prefault') && d.innerType) return core(d.innerType);
  if (d.type === 'pipe' && d.out) return core(d.out);
  return s;
}
const PLACEHOLDER: Record<string, string> = { number: '<x>', boolean: '<true|false>', enum: '<name>', array: '<list>' };
const placeholder = (s: z.ZodType) => ((s as { isInt?: boolean }).isInt ? '<n>' : (PLACEHOLDER[defOf(s).type] ?? '<value>'));
const shown = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The flags of a settings object's fields: `--<prefix><field in kebab-case>` unless `names` says otherwise. */
function flagsOf(schema: z.ZodObject, o: { path: string[]; prefix?: string; names?: Record<string, string>; group?: string }): OptionFlag[] {
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([field, s]) => {
    const name = o.names?.[field] ?? `${o.prefix ?? ''}${kebab(field)}`;
    const d = defOf(s);
    const bare = d.type === 'default' && d.innerType ? d.innerType : s;
    const value = defaults[field];
    const said = [o.group, value === undefined ? undefined : `default ${shown(value)}`].filter(Boolean);
    return {
      path: [...o.path, field],
      key: camel(name),
      value: placeholder(core(s)),
      help: `${s.description ?? field}${said.length ? ` (${said.join('; ')})` : ''}`,
      schema: bare.optional(),
    };
  });
}

/**
 * The flags of EvalSettings: what to evaluate (`grid`: protocols, fractions, seeds), feature extraction,
 * and the options of each protocol asked for (their help names the protocol).
 */
export function evalFlags(o: { grid?: boolean; protocols?: ProtocolName[] } = {}): OptionFlag[] {
  const grid = o.grid === false ? [] : flagsOf(EvalGrid, { path: [], names: { protocols: 'protocol' } });
  const perProtocol = (o.protocols ?? PROTOCOL_NAMES).flatMap((p) => {
    const { options, flagPrefix, flagNames } = PROTOCOLS[p];
    return flagsOf(options, { path: [p], prefix: flagPrefix, names: flagNames as Record<string, string>, group: p });
  });
  return [...grid, ...flagsOf(ExtractionSettings, { path: [] }), ...perProtocol];
}

/** EvalSettings from flag values (`given`, by flag key): each set flag goes to its place; the rest keep the schema's defaults. */
export function settingsFromFlags(flags: OptionFlag[], given: Record<string, unknown>, fixed: Record<string, unknown> = {}): EvalSettings {
  const raw: Record<string, unknown> = {};
  for (const f of flags) {
    if (given[f.key] === undefined) continue;
    let at = raw;
    for (const p of f.path.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[f.path.at(-1)!] = given[f.key];
  }
  const r = EvalSettings.safeParse({ ...raw, ...fixed });
  // what is wrong across options (a --target a protocol cannot predict) is the user's to fix: a usage error in the CLI
  if (!r.success) throw new EvalInputError(r.error.issues.map((i) => (i.message.startsWith('--') ? i.message : `${i.path.join('.')}: ${i.message}`)).join('; '));
  return r.data;
}
