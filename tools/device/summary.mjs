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
const ratio = (a, b) => (a > 0 && b > 0 ? (a / b).toFixed(2) : '–');

const f = read('features.json');
if (f?.torch) {
  const ort = f.ort?.imagesPerSec;
  const note = f.ort?.error ? ` (${f.ort.error})` : `; max rel. diff to ORT ${f.relDiff?.toExponential(1)} (strict fp32 ${f.relDiffFp32?.toExponential(1)})`;
  console.log(`features images/s, ${f.encoder} ${f.size} px: torch ${f.torch.device.split(' (')[0]} ${n(f.torch.imagesPerSec)} vs onnxruntime CPU ${ort ? n(ort) : 'n/a'} (${ratio(f.torch.imagesPerSec, ort)}x)${note}\n`);
} else if (existsSync(join(dir, 'features.json'))) console.log('features images/s: failed (see gpu-check.log)\n');

const train = readdirSync(dir)
  .filter((x) => x.startsWith('train-'))
  .sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)))
  .map(read)
  .filter(Boolean);
// train samples/s: raw PyTorch (views already made: the limit), raw PyTorch making the augmentations on
// the device (bench_augment), ours (plans -> pipe -> the engine paints on the device)
// real: a real run of that configuration (runPretext: epochs, held-out passes, checkpoints), where one was made
console.log('| mode | method | px | encoder | batch | raw (views made) | raw + augmentations on the device | ours | painted by | ours / raw+aug (target >= 0.9) | ours / raw | real run | real / ours (target >= 0.9) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
const worst = {};
let worstReal;
for (const r of train) {
  const head = `| ${r.mode} | ${r.task} | ${r.size} | ${r.encoder} | ${r.batch}`;
  if (r.skipped) {
    console.log(`${head} | not run: ${r.skipped} | | | | | | | |`);
    continue;
  }
  const raw = r.raw?.samplesPerSec;
  const aug = r.raw?.augmented?.samplesPerSec;
  const ours = r.ours?.samplesPerSec;
  // a real run's rate after its first epoch where it has one (the bench leaves its warm-up out too)
  const real = r.real?.afterFirstEpoch ?? r.real?.samplesPerSec;
  if (aug > 0 && ours > 0) worst[r.mode] = Math.min(worst[r.mode] ?? Infinity, ours / aug);
  if (real > 0 && ours > 0) worstReal = Math.min(worstReal ?? Infinity, real / ours);
  // where a real run's time went: its steps, its held-out passes and its checkpoints (the reason when real / ours is low)
  const t = r.real?.seconds;
  const spent = t ? `; steps ${t.steps.toFixed(1)} s, held-out ${t.heldOut.toFixed(1)} s, checkpoints ${t.checkpoints.toFixed(1)} s` : '';
  const whole = r.real?.afterFirstEpoch ? `after its first epoch; ${n(r.real.samplesPerSec)} with it; ` : '';
  const realCells = r.real ? `${n(real)} (${whole}${r.real.steps ?? '?'} steps, epochs of ${r.real.stepsPerEpoch ?? '?'}${spent}) | ${ratio(real, ours)}` : '| ';
  console.log(`${head} | ${n(raw)} | ${n(aug)} | ${n(ours)} | ${r.ours?.renderer ?? '?'} | ${ratio(ours, aug)} | ${ratio(ours, raw)} | ${realCells} |`);
}
const d = existsSync(join(dir, 'ddp.json')) ? read('ddp.json') : undefined;
if (d) {
  const plain = train.find((r) => r.mode === 'eager' && r.task === d.task && r.size === d.size && r.batch === d.batch && r.encoder === d.encoder);
  console.log(`\nDDP samples/s, ${d.task} ${d.size} px ${d.encoder} batch ${d.batch}: plain engine ${n(plain?.ours?.samplesPerSec)}, 1-process DDP (--gpus 1) ${n(d.ddp.samplesPerSec)} (${ratio(d.ddp.samplesPerSec, plain?.ours?.samplesPerSec)})`);
}
for (const [mode, q] of Object.entries(worst)) console.log(`HEADLINE ${mode}: lowest ours / (raw + augmentations) over the rows run = ${q.toFixed(2)} (target >= 0.9)`);
if (worstReal !== undefined) console.log(`HEADLINE real runs: lowest real run / ours = ${worstReal.toFixed(2)} (target >= 0.9)`);
