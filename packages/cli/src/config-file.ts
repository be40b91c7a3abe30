import { readFileSync } from 'node:fs';
import { jsonErrorWithoutText } from '@cxr-ssl/atomic';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** Read a YAML config file, or a JSON one when its name ends in .json, into a plain object, naming the file on error. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  // a .json file is read as JSON: YAML would accept e.g. a trailing comma and hand on something else
  const json = /\.json$/i.test(path);
  let value: unknown;
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${jsonErrorWithoutText(err).split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${path}: expected a mapping of option names to values`);
  }
  return value as Record<string, unknown>;
}

/** A mistake in what the user asked for: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

/** Stopped by Ctrl-C with a resumable checkpoint: the message says how to continue; exit code 130. */
export class InterruptedError extends Error {
  /** 128 + the number of the signal that stopped the work (130: Ctrl-C) */
  constructor(
    message: string,
    readonly exitCode = 130,
  ) {
    super(message);
  }
}

/**
 * Validate options (config file merged under command-line flags) with a zod schema and turn the
 * first problems into one readable message: `epochs: Too small: expected number to be >0`; a
 * missing option reads `--task is required: <its help>` (help: flag help by camelCase name).
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown, where: string, help: Record<string, string> = {}): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 5).map((i) => {
    const key = i.path.length ? i.path.map(String).join('.') : '(options)';
    const missing = i.code === 'invalid_type' && i.path.length === 1 && typeof value === 'object' && value !== null && (value as Record<string, unknown>)[key] === undefined;
    if (missing) {
      const name = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const why = i.message.startsWith('Invalid') ? help[key] : i.message; // zod's default wording, or ours
      return `  ${name} is required${why ? `: ${why}` : ''}`;
    }
    return `  ${key}: ${i.message}`;
  });
  throw new UsageError(`invalid options (${where}):\n${lines.join('\n')}`);
}
