import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureImages, repoRoot } from '@cxr-ssl/data/testing';
import { type EncoderSpec, encoderSpec, initWeights, type Weights } from '@cxr-ssl/models';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { PretextConfig } from '../config.ts';
import { writeHubExport } from './hub.ts';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';

// An export is checked from the outside: the files' format, then the Python package loading it
// (packages/python) against the ONNX encoder on real X-rays, and torchvision's own modules
// loading model.safetensors with strict=True.
const tmp = mkdtempSync(join(tmpdir(), 'cxr-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const CHECK = join(repoRoot(), 'packages', 'python', 'tests', 'check_export.py');

/**
 * BatchNorm statistics and affine far from 0/1, so a dropped or misnamed buffer shows; conv biases
 * away from their initial 0 (MobileNetV2's BN is folded into them: with zero biases its features
 * fade to ~1e-7 through the blocks, and a comparison within 1e-4 would say nothing).
 */
function trainedLooking(w: Weights, seed: number): Weights {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const value: Record<string, () => number> = { running_mean: () => next() - 0.5, running_var: () => 0.5 + next(), weight: () => 0.5 + next(), bias: () => 0.4 * (next() - 0.5) };
  return new Map(
    [...w].map(([name, t]) => {
      const k = name.split('.').pop()!;
      const isBn = w.has(name.replace(/\.[a-z_]+$/, '.running_var'));
      const draw = isBn ? value[k] : k === 'bias' ? value.bias : undefined;
      return [name, draw ? { shape: t.shape, data: t.data.map(() => draw()) } : t];
    }),
  );
}

function header(path: string): Record<string, { dtype: string; shape: number[] }> {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
}

async function exportWithOnnxFeatures(spec: EncoderSpec, size: number, n: number, data = 'kermany-mini') {
  const weights = trainedLooking(new Map([...initWeights(spec, undefined, 5)].filter(([k]) => !k.startsWith('head.'))), 11);
  const run = PretextConfig.parse({ task: 'rotation', cache: { dir: '.', name: data, size }, epochs: 2 });
  const dir = join(tmp, `${spec.name}-${size}`);
  const { config } = writeHubExport(dir, { spec, weights, run, steps: 40, runDir: join(tmp, 'test-run'), trainImages: 57 });
  const images = await fixtureImages(n, size);
  const x = new Uint8Array(n * size * size);
  for (const [i, img] of images.entries()) x.set(img.pixels, i * size * size);
  const session = await ort.InferenceSession.create(join(dir, 'encoder.onnx'));
  const features = (await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(x), [n, 1, size, size]) })).features.data as Float32Array;
  await session.release();
  writeFileSync(join(dir, '..', `${spec.name}-${size}.u8`), x);
  writeFileSync(join(dir, '..', `${spec.name}-${size}.f32`), features);
  return { dir, config, n, images: join(dir, '..', `${spec.name}-${size}.u8`), features: join(dir, '..', `${spec.name}-${size}.f32`) };
}

interface ModuleCheck {
  class?: string;
  source?: string;
  error?: string;
  max_abs_diff_onnx: number;
  shape: number[];
  hook?: number[];
  last_block_indexed?: string;
}

function check(python: string, e: { dir: string; images: string; n: number; features: string }) {
  const r = spawnSync(python, [CHECK, e.dir, e.images, String(e.n), e.features], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${CHECK} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    max_abs_onnx: number;
    torch: string;
    modules: Record<string, ModuleCheck>;
    timm?: ModuleCheck & { timm: string; data_config: { input_size: number[]; mean: number[]; std: number[] } };
  };
}

/** Every module load_encoder built equals ONNX; a twin's last-block hook fired on the batch. */
function expectModules(r: ReturnType<typeof check>, n: number, features: number, want: string[]) {
  // relative to the features' scale: random deep nets (resnet50, densenet121) reach |features| of 1e2..1e6
  const tolerance = 1e-4 * Math.max(1, r.max_abs_onnx);
  expect(Object.keys(r.modules).filter((m) => !r.modules[m].error)).toEqual(want);
  for (const m of want) {
    const c = r.modules[m];
    console.info(`  ${m}: ${c.class} (${c.source}) max |Δ| vs ONNX ${c.max_abs_diff_onnx.toExponential(2)}${c.hook ? `, last-block hook saw ${JSON.stringify(c.hook)}` : ''}`);
    expect(c.shape).toEqual([n, features]);
    expect(c.max_abs_diff_onnx).toBeLessThanOrEqual(tolerance);
    if (m !== 'graph' && want.length > 1) {
      expect(c.hook?.[0]).toBe(n); // the forward hook on layer4 / features fired on this batch
      expect(c.hook?.length).toBe(4);
    }
  }
}

describe('hub export: the files', () => {
  it('model.safetensors is a complete torch state dict (num_batches_tracked as I64), config.json has the input scaling as numbers, the card the limitation', async () => {
    const spec = encoderSpec('vgg-small-bn');
    const e = await exportWithOnnxFeatures(spec, 32, 2);
    const h = header(join(e.dir, 'model.safetensors'));
    const bns = spec.ops.filter((o) => o.op === 'bn');
    const tracked = Object.entries(h).filter(([k]) => k.endsWith('.num_batches_tracked'));
    expect(tracked).toHaveLength(bns.length);
    for (const [, t] of tracked) expect(t).toMatchObject({ dtype: 'I64', shape: [] });
    const b = readFileSync(join(e.dir, 'model.safetensors'));
    const n = Number(b.readBigUInt64LE(0));
    const first = (h[tracked[0][0]] as unknown as { data_offsets: [number, number] }).data_offsets[0];
    expect(b.readBigInt64LE(8 + n + first)).toBe(40n); // the steps given
    const config = JSON.parse(readFileSync(join(e.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ format: 1, architecture: 'vgg-small-bn', in_chans: 1, input_size: [32, 32], feature_dim: 256, method: 'rotation', steps: 40, dataset: { name: 'kermany-mini', size: 32 } });
    expect(config.input_normalisation).toEqual({ type: 'per-image', name: 'per-view', eps: 1e-5 });
    expect(config.cxr_ssl_version).toMatch(/^\d+\.\d+\.\d+/);
    const card = readFileSync(join(e.dir, 'README.md'), 'utf8');
    expect(card).toMatch(/## Intended use/);
    expect(card).toMatch(/Pretrained on pediatric X-rays/);
    expect(card).toMatch(/No evaluation was given/);
    // the data this run saw, not the whole collection it came from; no placeholder link; counts in words
    expect(card).toContain('Pretrained on 57 images (the train split of the prepared data set `kermany-mini`), from Kermany et al. (2018) paediatric chest X-rays');
    expect(card).toContain('- Pretrained on only 57 images: it shows the pipeline at work');
    expect(card).toContain('- 40 updates (2 epochs planned, batch');
    expect(card).not.toMatch(/\]\(https?:|\b1 updates|\b1 epochs/);
    expect(config.dataset).toEqual({ name: 'kermany-mini', size: 32, train_images: 57 });
  });
  it('an ImageNet-input encoder records its per-channel mean and std', async () => {
    const spec = encoderSpec('resnet18-torchvision');
    const run = PretextConfig.parse({ task: 'rotation', cache: { dir: '.', name: 'nih', size: 32 } });
    const { config } = writeHubExport(join(tmp, 'rn-tv'), { spec, weights: initWeights(spec, undefined, 1), run, steps: 0, runDir: join(tmp, 'x') });
    expect(config.input_normalisation).toEqual({ type: 'affine', name: 'torchvision-rgb', divide: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(config.in_chans).toBe(3);
    expect(readFileSync(join(tmp, 'rn-tv', 'README.md'), 'utf8')).toMatch(/adult frontal films/);
  });
});

const torchPython = torchPythonForTests('train/export/hub.test.ts');
/** A Python with torch and torchvision: the configured one, or Debian's python3-torchvision. */
function torchvisionPython(): string | undefined {
  const candidates = ['path' in torchPython ? torchPython.path : undefined, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0);
}
const tvPython = torchvisionPython();

// The torch Python of the tests (no torchvision: the local PyPI mirror's does not import with its CPU
// torch): load_encoder returns cxr_ssl.twins' copy of torchvision's network where the architecture has one.
describe.skipIf('error' in torchPython)('cxr_ssl.load_encoder (packages/python) on fixture X-rays', () => {
  const py = 'path' in torchPython ? torchPython.path : '';
  for (const [name, size, twin] of [
    ['vgg-small-bn', 64, false],
    ['resnet18', 64, true],
    ['resnet18-torchvision', 64, true],
    ['vgg-small', 64, false],
    ['mobilenetv2-0.35', 64, false], // TF 'SAME' padding (asymmetric at stride 2), relu6, depthwise convs without bias
    // the deep twins run here only where the torchvision describe below does not (it checks every module)
    ...(tvPython ? [] : ([['resnet50', 32, true], ['densenet121', 32, true]] as const)),
  ] as const) {
    it(`${name} at ${size} px: 8 images, ${twin ? 'torchvision\'s network (or its twin) and the graph equal' : 'output equals'} the ONNX encoder within 1e-4 (relative)`, async () => {
      const e = await exportWithOnnxFeatures(encoderSpec(name), size, 8);
      const r = check(py, e);
      console.info(`load_encoder ${name} (torch ${r.torch}, max |feature| ${r.max_abs_onnx.toFixed(3)}):`);
      expect(r.max_abs_onnx).toBeGreaterThan(1e-3); // not a vacuous comparison of zeros
      const available = twin ? ['auto', 'graph', 'twin', ...(r.modules.torchvision?.error ? [] : ['torchvision'])] : ['auto'];
      expectModules(r, 8, encoderSpec(name).features, available);
      if (twin && r.modules.torchvision?.error) expect(r.modules.auto.class).toMatch(/^cxr_ssl\.twins\./);
      if (!twin) expect(r.modules.auto.class).toBe('cxr_ssl.graph.Encoder');
    }, 120_000);
  }
});

// Debian's python3-torch 1.13 + python3-torchvision 0.14: load_encoder returns torchvision's own module.
describe.skipIf(!tvPython)('load_encoder returns torchvision\'s own network, strictly loaded', () => {
  if (!tvPython) console.warn('skipped: no Python with torch and torchvision (apt-get install python3-torchvision, or pip install torchvision)');
  for (const [name, size, n] of [
    ['resnet18', 64, 4],
    ['resnet18-torchvision', 64, 4],
    ['vgg16-bn', 32, 2],
    ['vgg16', 32, 2],
    ['resnet50', 32, 2],
    ['densenet121', 32, 2],
  ] as const) {
    it(`${name}: torchvision.models' class, its forward equals ONNX within 1e-4 (relative), a hook on its last block fires`, async () => {
      const e = await exportWithOnnxFeatures(encoderSpec(name), size, n);
      const r = check(tvPython!, e);
      console.info(`load_encoder ${name} with torchvision (torch ${r.torch}):`);
      expectModules(r, n, encoderSpec(name).features, ['auto', 'graph', 'twin', 'torchvision']);
      expect(r.modules.auto.class).toMatch(/^torchvision\.models\./);
      expect(r.modules.auto.source).toMatch(/^torchvision /);
      if (name.startsWith('resnet')) expect(r.modules.auto.last_block_indexed).toMatch(/^(BasicBlock|Bottleneck)$/);
    }, 120_000);
  }
});

/** A Python where timm imports (timm 1.0.29 runs on Debian's torch 1.13 + torchvision 0.14; not in CI). */
const timmPython = [process.env.CXR_SSL_TIMM_PYTHON, tvPython].find((p): p is string => !!p && spawnSync(p, ['-c', 'import timm'], { encoding: 'utf8' }).status === 0);

describe('timm reads the export folder', () => {
  it('config.json carries timm\'s fields for resnet18 (in_chans, no classifier, input size, mean and std) and the card the hub\'s YAML header', async () => {
    const e = await exportWithOnnxFeatures(encoderSpec('resnet18'), 64, 2);
    const config = JSON.parse(readFileSync(join(e.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architecture: 'resnet18', encoder: 'resnet18', num_classes: 0, num_features: 512, license: 'cc-by-4.0' });
    expect(config.pretrained_cfg).toMatchObject({ input_size: [1, 64, 64], num_classes: 0, first_conv: 'conv1', classifier: 'fc', license: 'cc-by-4.0' });
    expect(config.pretrained_cfg.mean).toHaveLength(1);
    expect(config.pretrained_cfg.notes[0]).toMatch(/standardises each image on its own/);
    const card = readFileSync(join(e.dir, 'README.md'), 'utf8');
    expect(card.startsWith('---\nlicense: cc-by-4.0\nlibrary_name: timm\n')).toBe(true);
    expect(card).toMatch(/^datasets:\n- kermany-mini$/m);
    expect(card).not.toMatch(/base_model/); // random init
    expect(card).toContain('timm.create_model("local-dir:this-folder", pretrained=True)');
    // the ImageNet-input variant: exact mean / std, three channels; a VGG has no timm twin
    const tv = writeHubExport(join(tmp, 'tv-timm'), { spec: encoderSpec('resnet50-torchvision'), weights: initWeights(encoderSpec('resnet50-torchvision'), undefined, 1), run: PretextConfig.parse({ task: 'rotation', init: 'imagenet.safetensors', cache: { dir: '.', name: 'nih', size: 32 } }), steps: 0, runDir: join(tmp, 'y') });
    expect(tv.config).toMatchObject({ architecture: 'resnet50', license: 'other', pretrained_cfg: { input_size: [3, 32, 32], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
    expect(readFileSync(join(tmp, 'tv-timm', 'README.md'), 'utf8')).toMatch(/^base_model: timm\/resnet50\.tv_in1k$/m);
    const vgg = writeHubExport(join(tmp, 'vgg-timm'), { spec: encoderSpec('vgg16-bn'), weights: initWeights(encoderSpec('vgg16-bn'), undefined, 1), run: PretextConfig.parse({ task: 'rotation', cache: { dir: '.', name: 'x', size: 32 } }), steps: 0, runDir: join(tmp, 'z') });
    expect(vgg.config).not.toHaveProperty('pretrained_cfg');
    expect(vgg.config.architecture).toBe('vgg16-bn');
  });

  for (const [name, size] of [
    ['resnet18', 64],
    ['densenet121', 32],
  ] as const) {
    it.skipIf(!timmPython)(`${name}: timm.create_model('local-dir:…', pretrained=True) loads it strictly and equals ONNX`, async () => {
      const e = await exportWithOnnxFeatures(encoderSpec(name), size, 2);
      const r = check(timmPython!, e);
      console.info(`timm ${r.timm?.timm}: ${r.timm?.class}, max |Δ| vs ONNX ${r.timm?.max_abs_diff_onnx.toExponential(2)}, data config ${JSON.stringify(r.timm?.data_config)}`);
      expect(r.timm?.error).toBeUndefined();
      expect(r.timm?.shape).toEqual([2, encoderSpec(name).features]);
      expect(r.timm!.max_abs_diff_onnx).toBeLessThanOrEqual(1e-4 * Math.max(1, r.max_abs_onnx));
      expect(r.timm?.data_config.input_size).toEqual([1, size, size]);
    }, 120_000);
  }
  if (!timmPython) console.warn('skipped: timm loads the export (no Python with timm: CXR_SSL_TIMM_PYTHON=<python with timm>)');
});
