/**
 * The training measurements of gpu-check.sh, most wanted first (its time budget cuts the tail): one
 * line each, "mode method size batch encoder". Built from the method registry, so a new method is
 * measured without editing the script.
 *   gpu (full): every method on the torch engine, in blocks of (mode, encoder, size): eager resnet18
 *               128 px (the table of issue 28), eager vgg16-bn 128, eager resnet18 224, eager vgg16-bn
 *               224, then the same four compiled. 56 rows at ~20 s each: one call of gpu-check.sh's
 *               budget measures about 20 of them; FROM=k starts another call at row k.
 *   quick:      every method eager on resnet18 at 128 px, then one contrastive method compiled and one
 *               at 224 px on vgg16-bn (9 rows, ~3 minutes).
 *   cpu / cpu-quick: the same path on this machine's CPU, vgg-small-bn, batch 8 (a dry run).
 *   real-gpu / real-cpu: the methods (one a line) that get a real run beside their first eager row.
 *      tools/device/bench-plan.ts gpu|quick|cpu|cpu-quick|real-gpu|real-cpu
 */
import { METHODS } from '../../packages/train/src/methods/index.ts';

const mode = process.argv[2] ?? 'gpu';
const ours = Object.keys(METHODS).filter((m) => METHODS[m].engines.includes('torch'));
// samples without a label: the views are each other's targets (contrastive, BYOL, DINO)
const contrastive = ours.filter((m) => METHODS[m].sampler.classes === undefined);
const batchAt = (size: number) => (size >= 224 ? 64 : 128);
const block = (run: string, encoder: string, size: number, methods = ours) => methods.map((m) => `${run} ${m} ${size} ${batchAt(size)} ${encoder}`);

const lines: string[] = [];
if (mode === 'real-gpu' || mode === 'real-cpu') {
  // the methods whose rows get a real run beside them (gpu-check.sh's REAL): on the GPU the first labelled
  // whole-image task and the first two-view method (issue 28's pair); on the CPU the dry run's first row
  const shape = (m: string) => METHODS[m].sampler.shape(128, METHODS[m].options.parse({}) as never);
  const whole = ours.find((m) => METHODS[m].sampler.classes !== undefined && shape(m).patch === 128);
  const twoViews = contrastive.find((m) => shape(m).views === 2 && !shape(m).local);
  lines.push(...(mode === 'real-gpu' ? [whole, twoViews].filter((m): m is string => !!m) : [ours[0]]));
} else if (mode === 'cpu' || mode === 'cpu-quick') {
  const first = contrastive[0];
  lines.push(`eager ${ours[0]} 128 8 vgg-small-bn`, `eager ${first} 128 8 vgg-small-bn`);
  // a multi-crop method (a local block) where there is one: its plans travel as a second block
  const multi = contrastive.find((m) => METHODS[m].sampler.shape(128, METHODS[m].options.parse({}) as never).local);
  if (mode === 'cpu' && multi) lines.push(`eager ${multi} 128 8 vgg-small-bn`, `compiled ${ours[0]} 128 8 vgg-small-bn`);
} else if (mode === 'quick') {
  lines.push(...block('eager', 'resnet18', 128), `compiled ${contrastive[0]} 128 128 resnet18`, `eager ${contrastive[0]} 224 64 vgg16-bn`);
} else {
  for (const run of ['eager', 'compiled'])
    for (const size of [128, 224]) for (const encoder of ['resnet18', 'vgg16-bn']) lines.push(...block(run, encoder, size));
}
console.log(lines.join('\n'));
