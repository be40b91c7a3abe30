import { byol } from './byol.ts';
import { context } from './context.ts';
import { dino } from './dino.ts';
import { jigsaw } from './jigsaw.ts';
import type { Method } from './method.ts';
import { moco } from './moco.ts';
import { rotation } from './rotation.ts';
import { simclr } from './simclr.ts';

export type { Method } from './method.ts';

/**
 * The methods by name, in report order. A method is one file per package under the same name:
 * data (sampler + options schema), models (head), train (loss); plus one registry line in each.
 * The first three are the reproduced study's pretext tasks.
 */
export const METHODS: Record<string, Method> = { context, jigsaw, rotation, simclr, moco, byol, dino };
