import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { batchSeed, epochOrder, makeBatch, openCache, painted } from '@cxr-ssl/data';
import { checkMethod, METHODS } from '@cxr-ssl/train';
import sharp from 'sharp';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { DEFAULT_CACHE_DIR, DEFAULT_DATA, DEFAULT_SIZE, int, pathName, quietOption } from '../options.ts';
import { PrepareOptions, runPrepare } from './prepare.ts';

const methodName = z.enum(Object.keys(METHODS) as [string, ...string[]]);

export const SamplesOptions = z
  .object({
    method: methodName.optional().meta(arg('<name>', 'the method')),
    task: methodName.optional().meta(arg('<name>', 'the older name of --method')),
    out: z.string().regex(/\.png$/i, 'a .png file').default('samples.png').meta(arg('<file.png>', 'where to write the grid')),
    data: pathName().default(DEFAULT_DATA).meta(arg('<name>', 'prepared data set (prepared from the bundled fixture when missing)')),
    size: int().min(16).default(DEFAULT_SIZE).meta(arg('<px>', 'image size of the prepared set')),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR).meta(arg('<dir>', 'dataset cache folder')),
    count: int().min(1).max(64).default(8).meta(arg('<n>', 'samples, one per row')),
    seed: int().nonnegative().default(0).meta(arg('<n>', 'seed: the grid is the first batch of epoch 0 of a run with this seed')),
    taskOptions: z.record(z.string(), z.unknown()).default({}),
    augment: z.enum(['default', 'none']).default('default').meta(arg('<which>', "the task's default augmentations, or none")),
    quiet: quietOption(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.method === !o.task) ctx.addIssue({ code: 'custom', path: ['method'], message: `give --method (or its older name --task): ${Object.keys(METHODS).join(' | ')}` });
  })
  .transform(({ method, task, ...o }, ctx) => {
    const name = (method ?? task)!;
    // parsed once: the grid is drawn with this
    const checked = checkMethod(name, samplerOptions(o), { size: o.size });
    if (checked.problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['taskOptions'], message: checked.problem, input: o.taskOptions });
      return z.NEVER;
    }
    return { ...o, task: name, method: checked.run };
  });
export type SamplesOptions = z.infer<typeof SamplesOptions>;

const samplerOptions = (o: { taskOptions: Record<string, unknown>; augment: 'default' | 'none' }) => (o.augment === 'none' ? { ...o.taskOptions, augment: [] } : o.taskOptions);

const GAP = 6;
const LABEL = 22;
const TITLE = 42;
const MIN_WIDTH = 480;
/** views are shown at least this large (nearest-neighbour, integer zoom) so small patches stay readable */
const MIN_SHOWN = 96;

/**
 * A labelled grid of what a task's sampler makes of real images: one row per sample, the cached
 * image first, then the views the network receives, the label written under them. It is exactly
 * the first batch of epoch 0 of a pretext run with this seed and batch size `count` (jigsaw: with the
 * set of taskOptions.permutationSeed, default 0, where a run uses its own seed), so shortcuts
 * (borders, burnt-in markers, exposure) can be seen before they cost a training run.
 */
export async function writeSampleGrid(o: SamplesOptions): Promise<{ out: string; width: number; height: number }> {
  const cacheDir = resolve(o.cacheDir);
  if (o.data === 'kermany-mini' && !existsSync(join(cacheDir, `kermany-mini-${o.size}.json`))) {
    await runPrepare(PrepareOptions.parse({ sizes: [o.size], cacheDir, seed: o.seed, quiet: o.quiet, name: 'kermany-mini' }));
  }
  const cache = openCache(cacheDir, o.data, o.size);
  const { method } = o;
  const task = method.method.sampler;
  const opts = method.samplerOptions;
  const indices = epochOrder(cache.indices('train'), o.seed, 0).slice(0, o.count);
  if (indices.length === 0) throw new Error(`${o.data}-${o.size} has no train images to sample`);
  const batch = painted(makeBatch(cache, task, opts, indices, batchSeed(o.seed, 0, 0)));
  const { views, patch } = task.shape(o.size, opts);
  const zoom = Math.max(1, Math.ceil(MIN_SHOWN / patch));
  const srcZoom = Math.max(1, Math.ceil(MIN_SHOWN / o.size));
  const cell = patch * zoom;
  const srcCell = o.size * srcZoom;
  const rowH = Math.max(cell, srcCell) + LABEL;
  const width = Math.max(MIN_WIDTH, GAP + srcCell + 2 * GAP + views * (cell + GAP));
  const height = TITLE + indices.length * (rowH + GAP);
  const canvas = new Uint8Array(width * height).fill(32);
  const blit = (src: Uint8Array, side: number, z: number, top: number, left: number) => {
    for (let i = 0; i < side * z; i++) {
      const row = Math.floor(i / z) * side;
      for (let j = 0; j < side * z; j++) canvas[(top + i) * width + left + j] = src[row + Math.floor(j / z)];
    }
  };
  const texts: string[] = [];
  const text = (x: number, y: number, s: string, size = 13) =>
    texts.push(`<text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${size}" fill="#f0f0f0">${escapeXml(s)}</text>`);
  const names = (list?: { name: string }[]) => list?.map((a) => a.name).join(' + ');
  const { augment, before } = opts as { augment?: { name: string }[]; before?: { name: string }[] };
  text(GAP, 17, `${o.task} on ${o.data}-${o.size}, seed ${o.seed}, ${names(before) ? `before: ${names(before)}, ` : ''}augment: ${names(augment) || 'none'}`);
  text(GAP, 35, `cached image | the view${views > 1 ? 's' : ''} the network sees (${patch} px, shown x${zoom})`);
  const area = patch * patch;
  indices.forEach((img, r) => {
    const top = TITLE + r * (rowH + GAP);
    blit(cache.image(img), o.size, srcZoom, top, GAP);
    for (let v = 0; v < views; v++) {
      const x = batch.x.subarray((r * views + v) * area, (r * views + v + 1) * area);
      blit(x, patch, zoom, top, GAP + srcCell + 2 * GAP + v * (cell + GAP));
    }
    text(GAP, top + Math.max(cell, srcCell) + 16, `#${img}: ${task.describe(batch.y?.[r] ?? -1, opts)}`);
  });
  cache.close();
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.png`;
  await sharp(canvas, { raw: { width, height, channels: 1 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(tmp);
  renameSync(tmp, out);
  return { out, width, height };
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export const samples = defineCommand({
  name: 'samples',
  summary: "Write a labelled grid (PNG) of what a task's sampler makes of real X-rays, to spot shortcuts before training",
  schema: SamplesOptions,
  async run(o) {
    const { out, width, height } = await writeSampleGrid(o);
    console.log(`${out} (${width} x ${height} px)`);
  },
});
