import { context } from './context.ts';
import { jigsaw } from './jigsaw.ts';
import { rotation } from './rotation.ts';
import type { PretextTask } from './task.ts';

export * from './context.ts';
export * from './geometry.ts';
export * from './jigsaw.ts';
export * from './permutations.ts';
export * from './rotation.ts';
export type { PretextTask } from './task.ts';

/** The pretext tasks by name. Adding a task = one file here + one line below. */
export const TASKS = { rotation, context, jigsaw } as const;
export type TaskName = keyof typeof TASKS;

export function getTask(name: string): PretextTask<unknown> {
  const t = (TASKS as Record<string, PretextTask<unknown>>)[name];
  if (!t) throw new Error(`unknown pretext task '${name}': choose one of ${Object.keys(TASKS).join(', ')}`);
  return t;
}
