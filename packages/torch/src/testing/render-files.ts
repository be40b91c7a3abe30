import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '@cxr-ssl/data';
import { PYTHON_PACKAGE_DIR } from '../python.ts';

/**
 * A planned batch handed to `python -m cxr_torch.render` through files (the parity test and
 * tools/bench/views.ts; training sends the same numbers over the engine's pipe): plans.json,
 * images.u8, views.f64 (+ local.f64), and back views.torch.u8 (+ local.torch.u8).
 */
export function writeRenderFiles(dir: string, batch: Batch): void {
  const p = batch.planned;
  if (!p) throw new Error('writeRenderFiles: the batch holds no plans (make it with paint false)');
  const n = batch.shape[0];
  const blocks = [{ name: 'views', views: batch.shape[1], patch: batch.shape[2], ...p.views }];
  if (p.local && batch.local) blocks.push({ name: 'local', views: batch.local[1], patch: batch.local[2], ...p.local });
  writeFileSync(join(dir, 'images.u8'), p.images);
  for (const b of blocks) writeFileSync(join(dir, `${b.name}.f64`), new Uint8Array(b.params.buffer, b.params.byteOffset, b.params.byteLength));
  writeFileSync(join(dir, 'plans.json'), JSON.stringify({ count: n, size: p.size, blocks: blocks.map(({ params: _, ...b }) => b) }));
}

export interface TorchRender {
  /** the painted blocks, as batchViews lays them out (views, then local) */
  x: Uint8Array;
  /** views/s per block, when `seconds` was given */
  viewsPerSec?: Record<string, number>;
  torch?: string;
  threads?: number;
}

/** Runs the torch renderer on the files of writeRenderFiles. */
export function renderWithTorch(python: string, dir: string, o: { device?: string; threads?: number; seconds?: number } = {}): TorchRender {
  const args = ['-m', 'cxr_torch.render', '--dir', dir, '--device', o.device ?? 'cpu'];
  if (o.threads) args.push('--threads', String(o.threads));
  if (o.seconds) args.push('--seconds', String(o.seconds));
  const r = spawnSync(python, args, { cwd: PYTHON_PACKAGE_DIR, encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`python -m cxr_torch.render failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const meta = JSON.parse(readFileSync(join(dir, 'plans.json'), 'utf8')) as { blocks: { name: string }[] };
  const parts = meta.blocks.map((b) => readFileSync(join(dir, `${b.name}.torch.u8`)));
  const x = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
  let at = 0;
  for (const p of parts) {
    x.set(p, at);
    at += p.length;
  }
  const line = r.stdout.trim().split('\n').pop();
  const timing = o.seconds && line ? (JSON.parse(line) as { viewsPerSec: Record<string, number>; torch: string; threads: number }) : undefined;
  return { x, ...(timing ? { viewsPerSec: timing.viewsPerSec, torch: timing.torch, threads: timing.threads } : {}) };
}
