import type { Engine } from '../engine.ts';
import type { TfjsEngineOptions } from './tfjs.ts';
import type { TorchEngineOptions } from './torch.ts';
import { findTorchPython } from '@cxr-ssl/torch';

export { EngineStartInterrupted, TorchProcessError } from './protocol.ts';
export type { TfjsEngineOptions } from './tfjs.ts';
export type { NodesOptions, TorchEngineOptions } from './torch.ts';

export interface EngineOptions {
  torch?: TorchEngineOptions;
  tfjs?: TfjsEngineOptions;
}

/**
 * The engines by name. Each entry loads its module on demand, so a torch run never loads
 * TensorFlow.js (and its wasm) and a tfjs run never spawns Python.
 */
export const ENGINES = {
  torch: async (opts: EngineOptions = {}): Promise<Engine> =>
    opts.torch?.ranks || opts.torch?.nodes ? new (await import('./ddp.ts')).DdpTorchEngine(opts.torch) : new (await import('./torch.ts')).TorchEngine(opts.torch),
  tfjs: async (opts: EngineOptions = {}): Promise<Engine> => new (await import('./tfjs.ts')).TfjsEngine(opts.tfjs),
} as const;
export type EngineName = keyof typeof ENGINES;

/**
 * Creates an engine by name. 'auto' picks torch when a Python that can import torch is found
 * (opts.torch.python, else $CXR_SSL_PYTHON, /usr/bin/python3, python3), else tfjs; `reason` says why.
 */
export async function createEngine(
  name: EngineName | 'auto',
  opts: EngineOptions = {},
): Promise<{ engine: Engine; name: EngineName; reason: string }> {
  if (name === 'torch' || name === 'tfjs') {
    const factory = ENGINES[name];
    if (!factory) throw new Error(`unknown engine "${name}": choose ${Object.keys(ENGINES).join(', ')} or auto`);
    return { engine: await factory(opts), name, reason: `--engine ${name}` };
  }
  if (name !== 'auto') throw new Error(`unknown engine "${name}": choose ${Object.keys(ENGINES).join(', ')} or auto`);
  const python = findTorchPython(opts.torch?.python);
  if ('error' in python) {
    return { engine: await ENGINES.tfjs(opts), name: 'tfjs', reason: `torch unavailable (${python.error}); using tfjs` };
  }
  const torchOpts = { ...opts.torch, python: python.path };
  const where = python.cuda ? `CUDA ${python.gpu ?? ''}`.trim() : 'CPU';
  return {
    engine: await ENGINES.torch({ ...opts, torch: torchOpts }),
    name: 'torch',
    reason: `torch ${python.torchVersion} at ${python.path} (${where})`,
  };
}
