import { z } from 'zod';
import type { Engine } from '../engine.ts';
import type { TfjsEngineOptions } from './tfjs.ts';
import type { TorchEngineOptions } from './torch.ts';
import { chooseEngine, type EngineAsk, type EngineChoice } from './choose.ts';

export { chooseEngine, type EngineAsk, type EngineChoice, NoEngineError } from './choose.ts';
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

/** `--engine` and every config's `engine:`: an engine by name, or `auto` (chooseEngine), the default. One schema for all. */
export const EngineOption = z.enum(['auto', ...Object.keys(ENGINES)] as [EngineAsk, ...EngineAsk[]]).default('auto');

/**
 * Starts the engine `choice` names (chooseEngine's answer); an engine `auto` found for torch runs
 * on the interpreter it found.
 */
export async function openEngine(choice: EngineChoice, opts: EngineOptions = {}): Promise<{ engine: Engine; name: EngineName; reason: string }> {
  const factory = ENGINES[choice.name];
  if (!factory) throw new Error(`unknown engine "${choice.name}": choose ${Object.keys(ENGINES).join(', ')} or auto`);
  const withPython = choice.python ? { ...opts, torch: { ...opts.torch, python: choice.python } } : opts;
  return { engine: await factory(withPython), name: choice.name, reason: choice.reason };
}

/** chooseEngine, then openEngine: `method` and its `engines` narrow what `auto` may take. */
export async function createEngine(
  asked: EngineAsk,
  opts: EngineOptions = {},
  method: { engines?: readonly EngineName[]; method?: string } = {},
): Promise<{ engine: Engine; name: EngineName; reason: string }> {
  return openEngine(chooseEngine(asked, { ...method, python: opts.torch?.python }), opts);
}
