/**
 * The training measurements of gpu-check.sh, most wanted first (its time budget cuts the tail):
 * one line each, "mode method size batch encoder". Built from the method registry, so a new method is
 * measured without editing the script: every method at 128 px on vgg16-bn; the classification
 * methods at 256 px; the contrastive ones (a loss that compares views) at 224 px and on resnet18 too;
 * then compiled rows.      tools/device/bench-plan.ts gpu|cpu
 */
import { METHODS } from '../../packages/train/src/methods/index.ts';

const mode = process.argv[2] ?? 'gpu';
const names = Object.keys(METHODS);
// samples without a label: the views are each other's targets (contrastive, BYOL, DINO)
const contrastive = (m: string) => METHODS[m].sampler.classes === undefined;
const onTorch = (m: string) => METHODS[m].engines.includes('torch');
const lines: string[] = [];
if (mode === 'cpu') {
  lines.push(`eager ${names[0]} 128 8 vgg-small-bn`, `eager ${names.find(contrastive)} 128 8 vgg-small-bn`, `compiled ${names[0]} 128 8 vgg-small-bn`);
} else {
  const ours = names.filter(onTorch);
  // the study's tasks and the first contrastive method first: the rows the issues ask for
  const first = ours.filter(contrastive)[0];
  for (const m of ours.filter((m) => !contrastive(m) || m === first)) lines.push(`eager ${m} 128 128 vgg16-bn`);
  if (first) lines.push(`eager ${first} 128 128 resnet18`, `eager ${first} 224 64 resnet18`, `eager ${first} 224 64 vgg16-bn`);
  for (const m of ours.filter((m) => !contrastive(m))) lines.push(`eager ${m} 256 64 vgg16-bn`);
  for (const m of ours.filter((m) => contrastive(m) && m !== first)) lines.push(`eager ${m} 128 128 vgg16-bn`);
  lines.push(`compiled ${names.filter((m) => !contrastive(m))[0]} 128 128 vgg16-bn`, `compiled ${first} 128 128 resnet18`);
}
console.log(lines.join('\n'));
