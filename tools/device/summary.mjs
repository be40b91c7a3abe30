// gpu-check.sh's final table, from the JSON lines it saved in one folder (features.json,
// train-N.json, ddp.json). Plain Node (no tsx): it must run even when the TypeScript side failed.
//   node tools/device/summary.mjs <results dir>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const read = (f) => {
  try {
    return JSON.parse(readFileSync(join(dir, f), 'utf8').trim().split('\n').pop());
  } catch {
    return undefined;
  }
};
const n = (x) => (typeof x === 'number' && x > 0 ? Math.round(x).toLocaleString('en-US') : 'failed');
const ratio = (a, b) => (a > 0 && b > 0 ? (a / b).toFixed(3) : '–');

console.log('| measurement | configuration | reference | ours | ours / reference |');
console.log('|---|---|---|---|---|');
const f = read('features.json');
if (f?.torch) {
  const ort = f.ort?.imagesPerSec;
  const note = f.ort?.error ? ` (${f.ort.error})` : `; max rel. diff to ORT ${f.relDiff?.toExponential(1)} (strict fp32 ${f.relDiffFp32?.toExponential(1)})`;
  console.log(`| features images/s | ${f.encoder} ${f.size} px, torch ${f.torch.device.split(' (')[0]} vs onnxruntime CPU provider${note} | ${ort ? n(ort) : 'n/a'} | ${n(f.torch.imagesPerSec)} | ${ratio(f.torch.imagesPerSec, ort)} |`);
} else console.log('| features images/s | – | failed (see gpu-check.log) | | |');

const train = readdirSync(dir)
  .filter((x) => x.startsWith('train-'))
  .sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)))
  .map(read)
  .filter(Boolean);
const worst = {};
for (const r of train) {
  const q = r.ours.samplesPerSec / r.raw.samplesPerSec;
  if (r.raw.samplesPerSec > 0 && r.ours.samplesPerSec > 0) worst[r.mode] = Math.min(worst[r.mode] ?? Infinity, q);
  console.log(`| train samples/s, ${r.mode} | ${r.task} ${r.size} px, ${r.encoder ?? ''} batch ${r.batch}: raw PyTorch vs ours | ${n(r.raw.samplesPerSec)} | ${n(r.ours.samplesPerSec)} | ${ratio(r.ours.samplesPerSec, r.raw.samplesPerSec)} |`);
}
const d = existsSync(join(dir, 'ddp.json')) ? read('ddp.json') : undefined;
if (d) {
  const plain = train.find((r) => r.mode === 'eager' && r.task === d.task && r.size === d.size && r.batch === d.batch && r.encoder === d.encoder);
  console.log(`| DDP samples/s | ${d.task} ${d.size} px, batch ${d.batch}: plain engine vs 1-process DDP (--gpus 1) | ${n(plain?.ours.samplesPerSec)} | ${n(d.ddp.samplesPerSec)} | ${ratio(d.ddp.samplesPerSec, plain?.ours.samplesPerSec)} |`);
}
for (const [mode, q] of Object.entries(worst)) console.log(`HEADLINE ${mode}: lowest ours/raw over methods, sizes and encoders = ${q.toFixed(3)} (target >= 1.0)`);
