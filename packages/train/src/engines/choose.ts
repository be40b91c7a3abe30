import { findTorchPython, NO_TORCH, pythonPathProblem, TorchPythonError } from '@cxr-ssl/torch';
import type { EngineName } from './index.ts';
import { EngineStartInterrupted } from './protocol.ts';

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
 *
 * An interpreter the user named (--python) for torch (`--engine torch` or `auto`) is checked here,
 * before the `engine:` line: one that cannot run torch is a wrong option (TorchPythonError, exit 2),
 * never silently replaced by tfjs. A signal while torch's import is probed is an interruption
 * (EngineStartInterrupted), not a machine without torch.
 */
export function chooseEngine(asked: EngineAsk, o: { engines?: readonly EngineName[]; python?: string; method?: string } = {}): EngineChoice {
  if (o.python && asked !== 'tfjs') checkPython(o.python);
  if (asked !== 'auto') return { name: asked, reason: `--engine ${asked}` };
  let noTorch: string | undefined;
  for (const name of o.engines ?? EVERY_ENGINE) {
    if (name === 'tfjs') return { name, reason: noTorch ? `auto: no Python with torch found${hidden()}, and ${o.method ?? 'this'} also trains on tfjs` : 'auto' };
    const found = probed(o.python);
    if ('error' in found) {
      noTorch = found.error;
      continue;
    }
    const where = found.cuda ? `CUDA ${found.gpu ?? ''}`.trim() : 'CPU';
    return { name, python: found.path, reason: `auto: torch ${found.torchVersion} at ${found.path}, ${where}` };
  }
  throw new NoEngineError(`${o.method ?? 'this'} trains on the ${(o.engines ?? EVERY_ENGINE).join(' or ')} engine only, and ${noTorch}`);
}

/** findTorchPython, with an interrupted probe thrown as the interruption it is. */
function probed(python: string | undefined): ReturnType<typeof findTorchPython> {
  const found = findTorchPython(python);
  if ('interrupted' in found && found.interrupted) throw new EngineStartInterrupted(found.error, found.interrupted);
  return found;
}

/** --python names an interpreter that can import torch, or TorchPythonError says what is wrong with it. */
function checkPython(python: string): void {
  const problem = pythonPathProblem(python);
  if (problem) throw new TorchPythonError(problem);
  const found = probed(python);
  if (!('error' in found)) return;
  // the one interpreter tried: what its probe said, without its path again; a plain missing torch needs no more
  const said = found.tried?.map((t) => (t.startsWith(`${python}: `) ? t.slice(python.length + 2) : t)).join('; ') ?? found.error;
  const why = /No module named '?torch'?/.test(said) ? '' : ` (${said})`;
  throw new TorchPythonError(`--python ${python}: it cannot import torch${why}. Give a Python with torch (tools/setup-python.sh makes .venv-torch), or leave --python out to use the first one found`);
}

/** ` (CXR_SSL_PYTHON=none)` when that switch is what hid torch. */
const hidden = () => (process.env.CXR_SSL_PYTHON === NO_TORCH ? ` (CXR_SSL_PYTHON=${NO_TORCH})` : '');
