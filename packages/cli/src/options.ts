import { availableParallelism } from 'node:os';
import { PRETEXT_DEFAULTS } from '@cxr-ssl/train';
import { z } from 'zod';
import { arg, toggle } from './command.ts';

/** Shared option pieces: flags arrive as strings, config files as YAML values; both coerce. */
export const int = () => z.coerce.number().int();
export const num = () => z.coerce.number();
export const flag = () => z.preprocess((v) => (v === 'false' ? false : v === 'true' ? true : v), z.boolean());
export const intList = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : typeof v === 'number' ? [v] : v),
    z.array(z.coerce.number().int().min(16, 'image sizes below 16 px leave nothing to learn')).min(1),
  );
export const strList = () =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), z.array(z.string().min(1)).min(1));

/** Decoding threads: sharp already uses a thread pool of its own, so workers pay off only from 4 cores up (measured). */
export const defaultWorkers = () => (availableParallelism() >= 4 ? availableParallelism() - 1 : 0);

/** The prepared set and size a command uses unless told otherwise: the bundled fixture, prepared on first use. */
export const DEFAULT_DATA = 'kermany-mini';
export const DEFAULT_SIZE = 128;

/** Where prepared datasets live unless told otherwise (relative to the working directory). */
export const DEFAULT_CACHE_DIR = 'cache';
export const DEFAULT_RUNS_DIR = 'runs';

/**
 * A name that becomes one path component under a folder we own (--run, --name, --data): never
 * '.', '..', empty or with a separator, so it can neither escape --runs-dir / --cache-dir nor reach
 * into a sibling.
 */
export const pathName = () =>
  z
    .string()
    .regex(/^[\w.+-]+$/, "letters, digits, . _ + - only: a single name, not a path (no '/', not empty)")
    .refine((s) => s !== '.' && s !== '..', { message: "a single name, not '.' or '..' (they are folders above or at the root)" });

/** The encoder every command uses when none is named (pretext's encoder, and the random-init baseline of eval and linear). */
export const DEFAULT_ENCODER = PRETEXT_DEFAULTS.encoder;

/** `--python`, as every command that may start the torch engine takes it. */
export const pythonOption = () => z.string().optional().meta(arg('<path>', 'python interpreter for the torch engine (default: env CXR_SSL_PYTHON, .venv-torch, /usr/bin/python3, python3)'));

/** `--quiet`, as every command takes it. */
export const quietOption = () => flag().default(false).meta(toggle('no progress output'));
