import type { z } from 'zod';

/**
 * A CLI command: a zod schema for the merged options (config file under flags) and what it does.
 * Its flags and their help come from the schema's fields (`.meta(arg(...))`, `.meta(toggle(...))`),
 * their defaults from the fields' own defaults. One file per command, registry in main.ts.
 */
export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  /** flags listed by hand (commander syntax, help): only for commands whose schema does not carry them yet */
  flags?: [flag: string, help: string][];
  schema: S;
  /** an optional positional argument and the option it fills (`export <run>` = `export --run <run>`) */
  positional?: { name: string; option: string };
  /** the command reads --config itself (its config file is its input, not a bag of flag defaults) */
  ownsConfig?: boolean;
  run(opts: z.infer<S>): Promise<void>;
}

export function defineCommand<S extends z.ZodType>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}

/** What a field's metadata says about its flag: the name of its value (none for a switch) and its help. */
interface FlagMeta {
  value?: string;
  help: string;
}

/** A flag that takes a value, `--name <n>` (the name from the field, kebab-case); --help adds the field's default. */
export const arg = (value: string, help: string) => ({ flag: { value, help } satisfies FlagMeta });

/** A switch, `--name` (true when given). */
export const toggle = (help: string) => ({ flag: { help } satisfies FlagMeta });

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; defaultValue?: unknown; entries?: Record<string, string> };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema and the ones it wraps (default, optional, a pipe's input...), outermost first. */
function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [];
  for (let s: z.ZodType | undefined = schema; s; ) {
    out.push(s);
    const d = defOf(s);
    s = d.innerType ?? d.in;
  }
  return out;
}

/** The object a command's schema validates (under its refinements and transforms). */
function shapeOf(schema: z.ZodType): Record<string, z.ZodType> {
  const object = layers(schema).find((s) => defOf(s).type === 'object') as z.ZodObject | undefined;
  if (!object) throw new Error('a command schema validates an object of options');
  return object.shape;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A default as a user would type it: lists comma-separated; a switch's false is no default worth saying. */
function shownDefault(schema: z.ZodType): string | undefined {
  const layer = layers(schema).find((s) => defOf(s).type === 'default');
  if (!layer) return undefined;
  const value = defOf(layer).defaultValue;
  if (value === false || value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** An enum field's choices (the innermost enum it wraps), or undefined. */
function choicesOf(schema: z.ZodType): string[] | undefined {
  const layer = layers(schema).find((s) => defOf(s).type === 'enum');
  return layer ? Object.values(defOf(layer).entries ?? {}) : undefined;
}

export interface Flag {
  key: string;
  /** commander syntax: `--batch-size <n>` or `--quiet` */
  syntax: string;
  help: string;
}

/**
 * The flags of a command schema, in field order: each field with `flag` metadata. The help opens
 * with an enum's choices and ends with the field's default.
 */
export function flagsOf(schema: z.ZodType): Flag[] {
  const flags: Flag[] = [];
  for (const [key, field] of Object.entries(shapeOf(schema))) {
    const meta = layers(field)
      .map((s) => s.meta()?.flag as FlagMeta | undefined)
      .find(Boolean);
    if (!meta) continue;
    const choices = choicesOf(field);
    const shown = shownDefault(field);
    const help = `${choices ? `${choices.join(' | ')}: ` : ''}${meta.help}${shown === undefined ? '' : ` (default ${shown})`}`;
    flags.push({ key, syntax: `--${kebab(key)}${meta.value ? ` ${meta.value}` : ''}`, help });
  }
  return flags;
}

/** A command's flags as [commander syntax, help], from its schema or the list it still gives by hand. */
export function commandFlags(spec: CommandSpec): [flag: string, help: string][] {
  return spec.flags ?? flagsOf(spec.schema).map((f) => [f.syntax, f.help]);
}
