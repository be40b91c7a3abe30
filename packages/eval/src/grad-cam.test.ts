import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture, repoRoot, splitIndices } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { withLastMapOutput } from '@cxr-ssl/models/onnx';
import { torchPythonForTests } from '@cxr-ssl/torch/testing';
import { PretextConfig, writeHubExport } from '@cxr-ssl/train';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { gradCam, headLogitGradient } from './grad-cam.ts';
import { trainLinearHead } from './linear.ts';

const tmp = mkdtempSync(join(tmpdir(), 'grad-cam-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SIZE = 128; // resnet18's last map is 4 x 4

/** A resnet18 export (random weights) and the linear probe on its features of the fixture's train X-rays. */
async function probe() {
  const spec = encoderSpec('resnet18');
  const weights = initWeights(spec, undefined, 3);
  const run = PretextConfig.parse({ task: 'rotation', cache: { dir: '.', name: 'kermany-mini', size: SIZE } });
  const dir = join(tmp, 'export');
  writeHubExport(dir, { spec, weights, run, steps: 0, runDir: join(tmp, 'grad-cam-run') });
  const { model, output } = withLastMapOutput(readFileSync(join(dir, 'encoder.onnx')));
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const fx = await loadFixture(SIZE);
  const run1 = async (rows: number[]) => {
    const x = new Float32Array(rows.length * SIZE * SIZE);
    for (const [i, r] of rows.entries()) x.set(fx.image(r), i * SIZE * SIZE);
    const r = await session.run({ pixels: new ort.Tensor('float32', x, [rows.length, 1, SIZE, SIZE]) });
    return { features: r.features.data as Float32Array, map: r[output].data as Float32Array, dims: r[output].dims as number[] };
  };
  const train = splitIndices(fx, 'train');
  const f = await run1(train);
  const { head } = trainLinearHead({ dim: 512, train: { features: f.features, labels: Int32Array.from(train, (i) => fx.labels[i]) }, options: { seed: 1, epochs: 5 } });
  const test = splitIndices(fx, 'test').slice(0, 4);
  const shown = await run1(test);
  await session.release();
  return { dir, head, fx, test, shown };
}

let probed: ReturnType<typeof probe> | undefined;
const shared = () => (probed ??= probe());

describe('Grad-CAM of the linear probe', () => {
  it('the head gradient equals central finite differences of its logit', async () => {
    const { head, shown } = await shared();
    const f = shown.features.slice(0, 512);
    const { gradient, logits } = headLogitGradient(head, f, 1);
    let worst = 0;
    for (const d of [0, 7, 100, 511]) {
      const up = f.slice();
      const down = f.slice();
      const step = 1e-3 / head.invStd[d]; // a thousandth of the feature's spread: no ReLU of the head flips
      up[d] += step;
      down[d] -= step;
      const numeric = (headLogitGradient(head, up, 1).logits[1] - headLogitGradient(head, down, 1).logits[1]) / (up[d] - down[d]);
      worst = Math.max(worst, Math.abs(numeric - gradient[d]) / Math.max(1e-3, Math.abs(gradient[d])));
    }
    expect(Number.isFinite(logits[0])).toBe(true);
    expect(worst).toBeLessThan(1e-2);
  });

  const python = torchPythonForTests('eval/grad-cam.test.ts');
  it.skipIf('error' in python)("equals autograd Grad-CAM through load_encoder's network with a hook on layer4, on fixture X-rays", async () => {
    const { dir, head, fx, test, shown } = await shared();
    const [n, C, h, w] = shown.dims;
    // both classes: with a random encoder one class may have no positive evidence (a map of zeros)
    const ours = [0, 1].flatMap((cls) =>
      test.map((_, i) => gradCam(head, shown.map.subarray(i * C * h * w, (i + 1) * C * h * w), [C, h, w], shown.features.subarray(i * C, (i + 1) * C), cls)),
    );
    const images = new Uint8Array(n * SIZE * SIZE);
    for (const [i, r] of test.entries()) images.set(fx.image(r), i * SIZE * SIZE);
    writeFileSync(join(tmp, 'x.u8'), images);
    const plain = Object.fromEntries(Object.entries(head).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v as Float32Array)]));
    writeFileSync(join(tmp, 'head.json'), JSON.stringify(plain));
    const script = join(repoRoot(), 'packages', 'python', 'tests', 'grad_cam_reference.py');
    const r = spawnSync('path' in python ? python.path : '', [script, dir, join(tmp, 'head.json'), join(tmp, 'x.u8'), String(n), join(tmp, 'maps.f32')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`grad_cam_reference.py failed: ${r.stderr}`);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!) as { module: string; shape: number[]; logits: number[][] };
    expect(info.shape).toEqual([2, n, h, w]);
    const bytes = readFileSync(join(tmp, 'maps.f32'));
    const want = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const got = Float32Array.from(ours.flatMap((c) => Array.from(c.map)));
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    console.info(`Grad-CAM [2, ${n}, ${h}, ${w}] vs autograd (${info.module}): max |Δ| ${diff.toExponential(2)}, max |map| ${scale.toExponential(2)}`);
    expect(scale).toBeGreaterThan(0); // some positive evidence to compare
    expect(diff).toBeLessThanOrEqual(1e-4 * scale);
    for (const i of test.keys()) expect(ours[i].logits[1]).toBeCloseTo(info.logits[i][1], 3);
  }, 120_000);
});
