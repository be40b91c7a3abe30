import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** Read a YAML or JSON config file (JSON is YAML) into a plain object, naming the file on error. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${path}: expected a mapping of option names to values`);
  }
  return value as Record<string, unknown>;
}

/** A mistake in what the user asked for: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

/**
 * Validate options (config file merged under command-line flags) with a zod schema and turn the
 * first problems into one readable message: `--epochs: Number must be greater than 0`.
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 5).map((i) => {
    const key = i.path.length ? i.path.map(String).join('.') : '(options)';
    return `  ${key}: ${i.message}`;
  });
  throw new UsageError(`invalid options (${where}):\n${lines.join('\n')}`);
}
