import type { z } from 'zod';

/**
 * A CLI command: its flags (commander syntax), a zod schema for the merged options (config file
 * under flags) and what it does. One file per command, registry in main.ts.
 */
export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  flags: [flag: string, help: string][];
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
