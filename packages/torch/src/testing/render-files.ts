import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch, PlanBlock } from '@cxr-ssl/data';
import { PYTHON_PACKAGE_DIR } from '../python.ts';

/**
 * Plan blocks handed to `python -m cxr_torch.render` through files (the parity test and
 * tools/bench/views.ts; training sends the same numbers over the engine's pipe): plans.json lists the
 * blocks, <name>.u8 holds a block's cache images ([count, size, size]), <name>.f64 its plan rows
 * ([count x views, width]); the renderer writes <name>.torch.u8 ([count, views, patch, patch]).
 */
export interface RenderBlock {
  name: string;
  images: Uint8Array;
  count: number;
  size: number;
  views: number;
  patch: number;
  block: PlanBlock;
}

/** The blocks of a planned batch (made with paint false): `<prefix>views` and `<prefix>local`. */
export function batchBlocks(batch: Batch, prefix = ''): RenderBlock[] {
  const p = batch.planned;
  if (!p) throw new Error('batchBlocks: the batch holds no plans (make it with paint false)');
  const common = { images: p.images, count: batch.shape[0], size: p.size };
  const out: RenderBlock[] = [{ name: `${prefix}views`, ...common, views: batch.shape[1], patch: batch.shape[2], block: p.views }];
  if (p.local && batch.local) out.push({ name: `${prefix}local`, ...common, views: batch.local[1], patch: batch.local[2], block: p.local });
  return out;
}

export function writeRenderFiles(dir: string, blocks: readonly RenderBlock[]): void {
  for (const b of blocks) {
    writeFileSync(join(dir, `${b.name}.u8`), b.images);
    writeFileSync(join(dir, `${b.name}.f64`), new Uint8Array(b.block.params.buffer, b.block.params.byteOffset, b.block.params.byteLength));
  }
  const meta = blocks.map((b) => ({ name: b.name, count: b.count, size: b.size, views: b.views, patch: b.patch, program: b.block.program, width: b.block.width }));
  writeFileSync(join(dir, 'plans.json'), JSON.stringify({ blocks: meta }));
}

export interface TorchRender {
  /** each block's views as the torch renderer paints them, by block name */
  views: Record<string, Uint8Array>;
  /** views/s per block, when `seconds` was given */
  viewsPerSec?: Record<string, number>;
  torch: string;
  threads: number;
}

/** Runs the torch renderer on the files of writeRenderFiles (one Python process for every block). */
export function renderWithTorch(python: string, dir: string, o: { device?: string; threads?: number; seconds?: number } = {}): TorchRender {
  const args = ['-m', 'cxr_torch.render', '--dir', dir, '--device', o.device ?? 'cpu'];
  if (o.threads) args.push('--threads', String(o.threads));
  if (o.seconds) args.push('--seconds', String(o.seconds));
  const r = spawnSync(python, args, { cwd: PYTHON_PACKAGE_DIR, encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`python -m cxr_torch.render failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const meta = JSON.parse(readFileSync(join(dir, 'plans.json'), 'utf8')) as { blocks: { name: string }[] };
  const views = Object.fromEntries(meta.blocks.map((b) => [b.name, new Uint8Array(readFileSync(join(dir, `${b.name}.torch.u8`)))]));
  const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { viewsPerSec?: Record<string, number>; torch: string; threads: number };
  return { views, ...line };
}
