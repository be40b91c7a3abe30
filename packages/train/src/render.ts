import { z } from 'zod';
import type { Engine } from './engine.ts';

/**
 * Who paints a run's views (packages/data/src/augment: a view is planned in TypeScript, then painted):
 * - `typescript`: the sampling threads paint them and the pipe carries the views;
 * - `torch`: the pipe carries one cache image per sample and its views' plans, and the torch engine
 *   paints them on its device (cxr_torch/render): on a GPU the CPU threads then only draw numbers;
 * - `auto`: torch where the engine computes on CUDA, else the one measured faster on CPU
 *   (docs/RENDERING.md: on 2 cores, TypeScript, which paints beside the torch thread instead of in it).
 * The batches are the same draws either way; the renderers agree to a grey level on a few pixels in
 * 10^5 (packages/torch/src/render-parity.test.ts).
 */
export const RenderOption = z.enum(['auto', 'typescript', 'torch']).default('auto').describe('who paints the views: auto | typescript | torch');
export type RenderOption = z.infer<typeof RenderOption>;
export type Renderer = Exclude<RenderOption, 'auto'>;

/** What `auto` picks where the engine computes on the CPU (measured: tools/bench/views.ts, docs/RENDERING.md). */
export const CPU_RENDERER: Renderer = 'typescript';

/** The renderer of a run on this engine (after its init: where it computes is known then). */
export function resolveRenderer(option: RenderOption, engine: Pick<Engine, 'name' | 'rendersOn'>): Renderer {
  if (option === 'torch' && !engine.rendersOn) throw new Error(`render torch: the ${engine.name} engine has no renderer of its own; use the torch engine (--engine torch) or --render typescript`);
  if (option !== 'auto') return option;
  if (!engine.rendersOn) return 'typescript';
  return engine.rendersOn === 'cuda' ? 'torch' : CPU_RENDERER;
}
