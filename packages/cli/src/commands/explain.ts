import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DatasetCache } from '@cxr-ssl/data';
import { evalFlags, extractFeatures, type GradCam, gradCam, openEncoderSession, PROTOCOLS, type ProtocolName, settingsFromFlags, trainLinearHead } from '@cxr-ssl/eval';
import { withLastMapOutput } from '@cxr-ssl/models/onnx';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { EMBEDDED_DATA, openPrepared } from '../dataset.ts';
import { flagFields } from '../evaluation.ts';
import { DEFAULT_CACHE_DIR, int, pathName, quietOption } from '../options.ts';
import { escapeXml } from './samples.ts';

/**
 * The registry's linear protocol's options (hidden, epochs, head batch, lr, weight decay) with eval's flags,
 * help and defaults: the probe explain trains is eval's (the same head, trainLinearHead, under the same options).
 */
export const PROBE_FLAGS = evalFlags({ grid: false }).filter((f) => f.path.length === 2 && PROTOCOLS[f.path[0] as ProtocolName] === PROTOCOLS.linear);

export const ExplainOptions = z
  .object({
    encoder: z.string().min(1).meta(arg('<dir>', 'a pretext run folder or an export folder (encoder.onnx + config.json)')),
    data: pathName()
      .default(EMBEDDED_DATA)
      .meta(arg('<name>', 'prepared data set: the probe trains on its train split, the grid shows its test split (the bundled fixture is prepared on first use)')),
    size: int()
      .min(16)
      .optional()
      .meta(arg('<px>', "image size (default: the encoder's training size, from its config.json)")),
    cacheDir: z.string().default(DEFAULT_CACHE_DIR).meta(arg('<dir>', 'dataset cache folder')),
    out: z.string().regex(/\.png$/i, 'a .png file').default('explain.png').meta(arg('<file.png>', 'where to write the grid')),
    count: int().min(1).max(32).default(8).meta(arg('<n>', 'test X-rays shown, normal and abnormal alternating')),
    target: z.enum(['predicted', 'abnormal', 'normal']).default('predicted').meta(arg('<class>', 'whose evidence the map shows')),
    seed: int().nonnegative().default(0).meta(arg('<n>', "the linear probe's seed")),
    ...flagFields(PROBE_FLAGS),
    quiet: quietOption(),
  })
  .strict();
export type ExplainOptions = z.infer<typeof ExplainOptions>;

const CLASS_NAMES = ['normal', 'abnormal'];
const COLUMNS = 4;
const SHOWN = 160;
const GAP = 6;
const LABEL = 20;
const TITLE = 40;

/** The training size and encoder.onnx of a run or export folder. */
function readEncoderFolder(folder: string): { onnx: string; size?: number; name: string } {
  const onnx = join(folder, 'encoder.onnx');
  const configPath = join(folder, 'config.json');
  if (!existsSync(onnx) || !existsSync(configPath)) {
    throw new UsageError(`${folder}: no encoder.onnx and config.json; give a finished pretext run (runs/<name>) or an export folder (cxr-ssl export)`);
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { input_size?: number[]; cache?: { size?: number }; architecture?: string; encoder?: string; method?: string; task?: string };
  const name = [config.method ?? config.task, config.encoder ?? config.architecture].filter(Boolean).join(' ');
  return { onnx, size: config.input_size?.[0] ?? config.cache?.size, name: name || folder };
}

/** Test images to show: normal and abnormal alternating (as many of each as the split has), in split order. */
function pickTestImages(cache: DatasetCache, count: number): number[] {
  const test = cache.indices('test');
  if (test.length === 0) throw new UsageError(`${cache.manifest.name} at ${cache.size} px has no test split: prepare a data set with one`);
  const byClass = [0, 1].map((c) => test.filter((i) => cache.manifest.entries[i].label === c));
  const out: number[] = [];
  for (let k = 0; out.length < Math.min(count, test.length); k++) for (const list of byClass) if (k < list.length && out.length < count) out.push(list[k]);
  return out;
}

/** 0..1 -> jet-like RGB (blue, cyan, yellow, red), the usual Grad-CAM palette. */
function palette(v: number): [number, number, number] {
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 1)));
  return [255 * r, 255 * g, 255 * b];
}

/** Bilinear value of an [h, w] map at output pixel (y, x) of a side x side image (half-pixel centres). */
function upsampled(map: Float32Array, h: number, w: number, side: number, y: number, x: number): number {
  const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / side - 0.5));
  const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / side - 0.5));
  const y0 = Math.floor(sy);
  const x0 = Math.floor(sx);
  const y1 = Math.min(h - 1, y0 + 1);
  const x1 = Math.min(w - 1, x0 + 1);
  const fy = sy - y0;
  const fx = sx - x0;
  const top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
  const bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}

export interface Explanation {
  out: string;
  width: number;
  height: number;
  images: { index: number; label: number; cam: GradCam; target: number; shape: [number, number, number] }[];
}

/**
 * Grad-CAM maps of test X-rays for the linear probe eval trains (the registry's linear protocol: its
 * options and defaults, its head on the train split's frozen features, seeded), at the encoder's last spatial map (eval/src/grad-cam.ts), as a
 * labelled PNG grid: each image beside its map over it, with its label and P(abnormal).
 */
export async function explain(o: ExplainOptions): Promise<Explanation> {
  const folder = resolve(o.encoder);
  const enc = readEncoderFolder(folder);
  const size = o.size ?? enc.size ?? 128;
  const cache = await openPrepared({ cacheDir: o.cacheDir, data: o.data, size, quiet: o.quiet });
  try {
    const train = cache.indices('train');
    if (train.length === 0) throw new UsageError(`${o.data} at ${size} px has no train split to fit the linear probe on`);
    const { session } = await openEncoderSession(enc.onnx, { provider: 'cpu' });
    const { features, dim } = await extractFeatures({ session, images: cache, indices: train });
    await session.release();
    const labels = Int32Array.from(train, (i) => cache.manifest.entries[i].label);
    // the registry's linear protocol options, eval's defaults under the flags given
    const probe = settingsFromFlags(PROBE_FLAGS, o).linear;
    const { head } = trainLinearHead({ dim, train: { features, labels }, options: { ...probe, seed: o.seed } });

    const shown = pickTestImages(cache, o.count);
    const mapped = withLastMapOutput(readFileSync(enc.onnx));
    const withMap = await ort.InferenceSession.create(mapped.model, { executionProviders: ['cpu'] });
    const images: Explanation['images'] = [];
    for (const index of shown) {
      const pixels = new ort.Tensor('float32', Float32Array.from(cache.image(index)), [1, 1, size, size]);
      const r = await withMap.run({ pixels });
      const map = r[mapped.output];
      const shape = map.dims.slice(1) as [number, number, number];
      const f = r.features.data as Float32Array;
      const abnormal = gradCam(head, map.data as Float32Array, shape, f, 1);
      const target = o.target === 'predicted' ? (abnormal.probability >= 0.5 ? 1 : 0) : CLASS_NAMES.indexOf(o.target);
      const cam = target === 1 ? abnormal : gradCam(head, map.data as Float32Array, shape, f, 0);
      images.push({ index, label: cache.manifest.entries[index].label, cam, target, shape });
    }
    await withMap.release();
    return { ...(await render(o, cache, enc.name, images)), images };
  } finally {
    cache.close();
  }
}

async function render(o: ExplainOptions, cache: DatasetCache, name: string, images: Explanation['images']) {
  const size = cache.size;
  const cellW = 2 * SHOWN + GAP;
  const columns = Math.min(COLUMNS, images.length);
  const width = GAP + columns * (cellW + 3 * GAP);
  const rows = Math.ceil(images.length / columns);
  const height = TITLE + rows * (SHOWN + LABEL + GAP);
  const canvas = new Uint8Array(width * height * 3).fill(32);
  const texts: string[] = [];
  const text = (x: number, y: number, s: string, px = 13) =>
    texts.push(`<text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${px}" fill="#f0f0f0">${escapeXml(s)}</text>`);
  text(GAP, 17, `Grad-CAM of ${name} + linear probe (eval's, seed ${o.seed}) on ${cache.manifest.name}-${size} test X-rays`);
  text(GAP, 34, `each: the X-ray | the map of the ${o.target === 'predicted' ? 'predicted class' : `${o.target} class`} over it (last conv map, upsampled)`);
  images.forEach(({ index, label, cam, target, shape }, n) => {
    const top = TITLE + Math.floor(n / columns) * (SHOWN + LABEL + GAP);
    const left = GAP + (n % columns) * (cellW + 3 * GAP);
    const pixels = cache.image(index);
    const peak = cam.map.reduce((m, v) => Math.max(m, v), 0);
    for (let y = 0; y < SHOWN; y++) {
      for (let x = 0; x < SHOWN; x++) {
        const grey = pixels[Math.floor((y * size) / SHOWN) * size + Math.floor((x * size) / SHOWN)];
        const v = peak > 0 ? upsampled(cam.map, shape[1], shape[2], SHOWN, y, x) / peak : 0;
        const [r, g, b] = palette(v);
        const alpha = 0.25 + 0.35 * v; // the map shows, the anatomy under it too
        const at = ((top + y) * width + left + x) * 3;
        canvas.set([grey, grey, grey], at);
        canvas.set([(1 - alpha) * grey + alpha * r, (1 - alpha) * grey + alpha * g, (1 - alpha) * grey + alpha * b], at + (SHOWN + GAP) * 3);
      }
    }
    // an all-zero map: no position raises the class's logit (Grad-CAM's ReLU), said rather than left blank
    text(left, top + SHOWN + 15, `#${index} ${CLASS_NAMES[label]} · P(abn.) ${cam.probability.toFixed(2)} · map: ${CLASS_NAMES[target]}${peak > 0 ? '' : ' (all ≤ 0)'}`, 12);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.png`;
  await sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(tmp);
  renameSync(tmp, out);
  return { out, width, height };
}

export const explainCommand = defineCommand({
  name: 'explain',
  summary: "Grad-CAM maps of test X-rays for eval's linear probe on an encoder, as a labelled PNG grid: where it looks",
  positional: { name: 'encoder', option: 'encoder' },
  schema: ExplainOptions,
  async run(o) {
    const { out, width, height, images } = await explain(o);
    console.log(`${out} (${width} x ${height} px): Grad-CAM of ${images.length} test X-rays`);
  },
});
