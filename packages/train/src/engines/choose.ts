import { findTorchPython, NO_TORCH } from '@cxr-ssl/torch';
import type { EngineName } from './index.ts';

/** What a user may ask for: an engine by name, or `auto`. */
export type EngineAsk = EngineName | 'auto';

export interface EngineChoice {
  name: EngineName;
  /** why this engine, for the `engine: X (why)` line */
  reason: string;
  /** the interpreter `auto` found for torch */
  python?: string;
}

/** No engine of a method's list is available here; the message names what to install. */
export class NoEngineError extends Error {}

/** The order `auto` tries when the caller names no method: every engine has the study's tasks. */
const EVERY_ENGINE: readonly EngineName[] = ['torch', 'tfjs'];

/**
 * The one place an engine is chosen (pretext, demo, reproduce, fine-tuning). An engine named by the
 * user is taken as asked (whether the method has it is methodProblem's check). `auto` takes the
 * first engine of the method's `engines` that is available here: tfjs always (in-process, wasm),
 * torch when a Python that imports torch is found (--python, else the usual search). Throws
 * NoEngineError only when none of them is.
 */
export function chooseEngine(asked: EngineAsk, o: { engines?: readonly EngineName[]; python?: string; method?: string } = {}): EngineChoice {
  if (asked !== 'auto') return { name: asked, reason: `--engine ${asked}` };
  let noTorch: string | undefined;
  for (const name of o.engines ?? EVERY_ENGINE) {
    if (name === 'tfjs') return { name, reason: noTorch ? `auto: no Python with torch found${hidden()}, and ${o.method ?? 'this'} also trains on tfjs` : 'auto' };
    const found = findTorchPython(o.python);
    if ('error' in found) {
      noTorch = found.error;
      continue;
    }
    const where = found.cuda ? `CUDA ${found.gpu ?? ''}`.trim() : 'CPU';
    return { name, python: found.path, reason: `auto: torch ${found.torchVersion} at ${found.path}, ${where}` };
  }
  throw new NoEngineError(`${o.method ?? 'this'} trains on the ${(o.engines ?? EVERY_ENGINE).join(' or ')} engine only, and ${noTorch}`);
}

/** ` (CXR_SSL_PYTHON=none)` when that switch is what hid torch. */
const hidden = () => (process.env.CXR_SSL_PYTHON === NO_TORCH ? ` (CXR_SSL_PYTHON=${NO_TORCH})` : '');
