import { z } from 'zod';

/**
 * Pieces of the evaluation's option schemas. They coerce, so one schema reads both a flag (a string)
 * and a config file's value; each field's `.describe()` is its help text (put last, after `.default()`).
 */
export const int = () => z.coerce.number().int();
export const num = () => z.coerce.number();
export const bool = () => z.preprocess((v) => (v === 'false' ? false : v === 'true' ? true : v), z.boolean());
/** "a,b" from a flag or [a, b] from a config file */
export const commaList = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : typeof v === 'number' ? [v] : v), z.array(item).min(1));

/**
 * The study's head ("2 dense layers, 10 epochs"): dense(hidden) + ReLU -> dense(2). The linear
 * protocol trains it on frozen features and fine-tuning on top of the unfrozen encoder, so both
 * take their width and epochs from here.
 */
export const headHidden = () => int().positive().default(256);
export const headEpochs = () => int().positive().default(10);
