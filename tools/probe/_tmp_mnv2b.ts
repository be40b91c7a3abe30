import { loadFixture } from '@cxr-ssl/data/testing';
import { encoderSpec, initWeights } from '@cxr-ssl/models';
import { encoderOnnx } from '@cxr-ssl/models/onnx';
import { extractFeatures, openEncoderSession } from '@cxr-ssl/eval';
const size = Number(process.argv[2] ?? 64);
const fx = await loadFixture(size);
const spec = encoderSpec('mobilenetv2-0.35');
const ops = spec.ops;
// op after each conv
const next = new Map<string, string>();
ops.forEach((o, i) => { if (o.op === 'conv') next.set(o.name, ops[i + 1]?.op ?? 'end'); });
function normal(n: number, std: number, seed: number) { const a = new Float32Array(n); let s = seed >>> 0 || 1; const r = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; }; for (let i = 0; i < n; i += 2) { const u = r() || 1e-12, v = r(); const m = Math.sqrt(-2 * Math.log(u)); a[i] = m * Math.cos(2 * Math.PI * v) * std; if (i + 1 < n) a[i + 1] = m * Math.sin(2 * Math.PI * v) * std; } return a; }
async function measure(label: string, rule: (op: any) => number) {
  const w = initWeights(spec, undefined, 0);
  let k = 1;
  for (const o of ops) if (o.op === 'conv') { const t = w.get(`${o.name}.weight`)!; w.set(`${o.name}.weight`, { shape: t.shape, data: normal(t.data.length, rule(o), k++) }); }
  const { session } = await openEncoderSession(encoderOnnx(spec, w), { provider: 'cpu' });
  const f = await extractFeatures({ session, images: { count: fx.count, size, image: (i: number) => fx.image(i) }, indices: Array.from({ length: fx.count }, (_, i) => i) });
  const n = fx.count, d = f.dim;
  let sq = 0, max = 0; for (const v of f.features) { sq += v * v; max = Math.max(max, Math.abs(v)); }
  const rms = Math.sqrt(sq / f.features.length);
  let dead = 0, crel = 0, sat = 0;
  for (let j = 0; j < d; j++) { let s = 0, s2 = 0, nz = 0; for (let i = 0; i < n; i++) { const v = f.features[i * d + j]; s += v; s2 += v * v; if (v !== 0) nz++; } const m = s / n; const sd = Math.sqrt(Math.max(0, s2 / n - m * m)); if (nz === 0) dead++; if (sd <= 1e-6 * rms) crel++; if (m > 5.9) sat++; }
  console.log(label, size, { rms: rms.toExponential(2), max: max.toFixed(3), dead: dead / d, constant: crel / d, sat: sat / d });
}
const fanIn = (o: any) => o.in / o.groups * o.k * o.k;
const gain = (o: any) => (next.get(o.name) === 'relu6' ? 2 : 1);
await measure('torchvision fan-out', (o) => Math.sqrt(2 / (o.out / o.groups * o.k * o.k)));
await measure('grouped fan-in, rest fan-out', (o) => o.groups > 1 ? Math.sqrt(2 / fanIn(o)) : Math.sqrt(2 / (o.out * o.k * o.k)));
await measure('all fan-in, gain by activation', (o) => Math.sqrt(gain(o) / fanIn(o)));
await measure('all fan-in gain 2', (o) => Math.sqrt(2 / fanIn(o)));
