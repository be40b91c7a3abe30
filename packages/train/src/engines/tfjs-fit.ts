import { encoderSpec } from '@cxr-ssl/models';
import { gib, TFJS_WASM_HEAP_LIMIT, tfjsMicroBatch, tfjsStepBytes } from '../memory.ts';
import type { MethodRun } from '../method-options.ts';

export interface TfjsFit {
  /** train each batch in passes of this many samples, with gradient accumulation */
  microBatch?: number;
  /** what that means for the run, for the terminal */
  note?: string;
  /** not even one sample fits: the message names a size that does */
  problem?: string;
}

/**
 * How a step of `method` fits the tfjs wasm heap (4 GiB at most), decided before any work (beside
 * chooseEngine: once tfjs is chosen): whole, in passes of a micro-batch with gradient accumulation, or
 * not at all (a problem naming a size that fits).
 */
export function tfjsFit(method: MethodRun, run: { encoder: string; size: number; batch: number }): TfjsFit {
  const { encoder: name, size, batch } = run;
  const encoder = encoderSpec(name);
  const shapeAt = (px: number) => ({ encoder, batch, ...method.shape(px) });
  const step = shapeAt(size);
  const need = tfjsStepBytes(step);
  if (need <= TFJS_WASM_HEAP_LIMIT) return {};
  const micro = tfjsMicroBatch(step);
  if (micro) {
    return {
      microBatch: micro,
      note: `a step of ${batch} at ${size} px needs about ${gib(need)} on tfjs-wasm (its heap stops at 4 GiB): each batch is trained in ${batch / micro} passes of ${micro} with gradient accumulation (the whole batch's gradient; a BatchNorm normalises each pass by its own statistics)`,
    };
  }
  let fits = size;
  while (fits > 16 && !tfjsMicroBatch(shapeAt(fits))) fits = Math.max(16, Math.floor(fits / 2 / 16) * 16);
  return {
    problem: `one sample of ${method.name} at ${size} px on ${name} needs about ${gib(tfjsStepBytes({ ...step, batch: 1 }))} on tfjs-wasm, more than its heap holds (4 GiB): use --size ${fits} or smaller, a smaller --encoder, or the torch engine (--engine torch)`,
  };
}
