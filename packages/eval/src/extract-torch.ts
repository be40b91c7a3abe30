import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type EncoderSpec, type Weights, encoderWeightsShapes, torchEncoder, writeSafetensors } from '@cxr-ssl/models';
import { findTorchPython, PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { z } from 'zod';
import type { Features, ImageSource } from './extract.ts';

/**
 * Feature extraction through PyTorch (`python -m cxr_torch.extract`): the same frozen encoder as
 * encoder.onnx, built from its spec and weights, fp32 (TF32 on CUDA). Python reads the rows straight
 * from the dataset cache file when `cacheFile` names it; other sources are written to a
 * temporary cache file first. Agrees with onnxruntime within 1e-3 relative (extract-torch.test.ts).
 */
export interface TorchExtractInput {
  encoder: EncoderSpec;
  /** encoder weights (extra names, e.g. a head's, are ignored) */
  weights: Weights;
  images: ImageSource;
  /** the dataset cache file `images` reads (DatasetCache.files.u8): Python reads its rows itself */
  cacheFile?: string;
  indices: ArrayLike<number>;
  batchSize?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  python?: string;
  threads?: number;
  /** TF32 convolutions and matmuls on CUDA (default true; false: strict fp32) */
  tf32?: boolean;
  onProgress?: (done: number, total: number) => void;
}

const Line = z.union([
  z.object({ progress: z.number(), total: z.number() }),
  z.object({ ok: z.literal(true), dim: z.number().int(), rows: z.number().int(), device: z.string(), torch: z.string() }),
  z.object({ error: z.string(), traceback: z.string().optional() }),
]);

export async function extractFeaturesTorch(input: TorchExtractInput): Promise<Features & { device: string }> {
  const { images, indices } = input;
  const batchSize = input.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractFeaturesTorch: batchSize ${batchSize} must be a positive integer`);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= images.count) {
      throw new Error(`extractFeaturesTorch: index ${i} at position ${k} is outside the ${images.count} images`);
    }
  }
  let python = input.python;
  if (!python) {
    const found = findTorchPython();
    if ('error' in found) throw new Error(`torch feature extraction: ${found.error}`);
    python = found.path;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'cxr-extract-'));
  try {
    const encoderWeights: Weights = new Map();
    for (const { name } of encoderWeightsShapes(input.encoder)) {
      const t = input.weights.get(name);
      if (!t) throw new Error(`torch feature extraction: the weights of ${input.encoder.name} have no '${name}'`);
      encoderWeights.set(name, t);
    }
    writeSafetensors(join(tmp, 'encoder.safetensors'), encoderWeights);
    let u8Path = input.cacheFile;
    let rows = Int32Array.from(indices);
    let count = images.count;
    if (!u8Path) {
      // a source without a cache file (tests, fixtures): write the wanted rows once, in order
      const px = images.size * images.size;
      const buf = new Uint8Array(rows.length * px);
      for (let k = 0; k < rows.length; k++) buf.set(images.image(rows[k]), k * px);
      u8Path = join(tmp, 'images.u8');
      writeFileSync(u8Path, buf);
      rows = Int32Array.from(rows, (_, k) => k);
      count = rows.length;
    }
    writeFileSync(join(tmp, 'indices.i32'), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    const outPath = join(tmp, 'features.f32');
    const request = {
      encoder: torchEncoder(input.encoder),
      weightsPath: join(tmp, 'encoder.safetensors'),
      u8Path,
      size: images.size,
      count,
      indicesPath: join(tmp, 'indices.i32'),
      batchSize,
      device: input.device ?? 'auto',
      threads: input.threads ?? 0,
      tf32: input.tf32 ?? true,
      outPath,
    };
    writeFileSync(join(tmp, 'request.json'), JSON.stringify(request));
    const done = await runExtract(python, join(tmp, 'request.json'), input.onProgress);
    const bytes = readFileSync(outPath);
    if (bytes.byteLength !== rows.length * done.dim * 4) {
      throw new Error(`torch feature extraction: ${outPath} has ${bytes.byteLength} bytes, expected ${rows.length} x ${done.dim} float32`);
    }
    const features = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(features.buffer).set(bytes);
    return { features, dim: done.dim, device: `${done.device} (torch ${done.torch})` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function runExtract(python: string, requestPath: string, onProgress?: (done: number, total: number) => void): Promise<{ dim: number; device: string; torch: string }> {
  const env = { ...process.env, PYTHONPATH: [PYTHON_PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1' };
  const child = spawn(python, ['-m', 'cxr_torch.extract', requestPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 20) stderr.shift();
  });
  // the child dies with us (PR_SET_PDEATHSIG on its side); on our normal exit we end it first
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  return new Promise((resolve, reject) => {
    let result: { dim: number; device: string; torch: string } | undefined;
    let error: string | undefined;
    createInterface({ input: child.stdout }).on('line', (l) => {
      const parsed = Line.safeParse(JSON.parse(l));
      if (!parsed.success) error ??= `unexpected output line: ${l.slice(0, 200)}`;
      else if ('progress' in parsed.data) onProgress?.(parsed.data.progress, parsed.data.total);
      else if ('ok' in parsed.data) result = parsed.data;
      else error = parsed.data.error;
    });
    child.on('error', (err) => reject(new Error(`torch feature extraction: cannot start "${python}": ${err.message}`)));
    child.on('close', (code, signal) => {
      process.removeListener('exit', onExit);
      if (result && code === 0) resolve(result);
      else {
        const tail = stderr.slice(-8).join('\n');
        reject(new Error(`torch feature extraction failed (exit ${code}, signal ${signal}): ${error ?? 'no answer'}${tail ? `\n${tail}` : ''}`));
      }
    });
  });
}

/** Which extractor `--features` picks: `auto` is torch when its Python sees CUDA (and ORT's CUDA provider was not asked for), else ORT. */
export type FeatureExtractor = 'ort' | 'torch';
export function chooseExtractor(
  asked: 'auto' | FeatureExtractor,
  provider: 'auto' | 'cpu' | 'cuda',
  python?: string,
): { extractor: FeatureExtractor; python?: string; reason: string } {
  if (asked === 'ort') return { extractor: 'ort', reason: '--features ort' };
  const found = findTorchPython(python);
  if (asked === 'torch') {
    if ('error' in found) throw new Error(`--features torch: ${found.error}`);
    return { extractor: 'torch', python: found.path, reason: `--features torch (${found.cuda ? `CUDA ${found.gpu ?? ''}`.trim() : 'CPU'})` };
  }
  if (provider === 'cuda') return { extractor: 'ort', reason: "--provider cuda: onnxruntime's CUDA provider" };
  if ('error' in found || !found.cuda) return { extractor: 'ort', reason: 'onnxruntime (no torch with CUDA found)' };
  return { extractor: 'torch', python: found.path, reason: `torch ${found.torchVersion} on CUDA ${found.gpu ?? ''}`.trim() };
}
