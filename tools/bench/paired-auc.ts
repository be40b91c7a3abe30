/**
 * The report's bootstrap cost: a paired bootstrap of AUC (what pairRows and the label-efficiency table
 * run for every row) with `auc` against the rank-sum AUC it replaced (one comparator sort of all
 * scores), in this process, on the same labels, scores and resamples. Prints ms per bootstrap for each,
 * the ratio, and the largest difference between the two intervals (0: the same statistic).
 *
 *   npx tsx tools/bench/paired-auc.ts [--images 624] [--resamples 1000] [--repeats 5]
 */
import { parseArgs } from 'node:util';
import { createRng } from '@cxr-ssl/data';
import { auc, pairedBootstrap } from '@cxr-ssl/eval';
import { z } from 'zod';

const Args = z.object({
  images: z.coerce.number().int().min(4).default(624), // Kermany's test split
  resamples: z.coerce.number().int().min(2).default(1000),
  repeats: z.coerce.number().int().positive().default(5),
});
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(Args.shape).map((k) => [k, { type: 'string' as const }])) });
const args = Args.parse(values);

/** The previous implementation: mid-ranks over one sort of all scores. */
function rankAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        rankSumPos += (i + j) / 2 + 1;
        pos++;
      }
    }
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * (n - pos));
}

const rng = createRng(0);
const labels = Array.from({ length: args.images }, (_, i) => (i < args.images * 0.625 ? 1 : 0));
const scoresOf = () => labels.map((y) => Math.round((rng.next() + 0.4 * y) * 1000) / 1000); // some ties
const a = [scoresOf(), scoresOf(), scoresOf()];
const b = [scoresOf(), scoresOf(), scoresOf()];

function time(metric: typeof auc) {
  let best = Number.POSITIVE_INFINITY;
  let result = pairedBootstrap(metric, labels, a, b, { n: args.resamples, seed: 1 });
  for (let r = 0; r < args.repeats; r++) {
    const t = performance.now();
    result = pairedBootstrap(metric, labels, a, b, { n: args.resamples, seed: 1 });
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, result };
}
const ours = time(auc);
const reference = time(rankAuc);
const gap = Math.max(...[0, 1].map((k) => Math.abs(ours.result.ci[k] - reference.result.ci[k])), Math.abs(ours.result.estimate - reference.result.estimate));
console.log(`paired AUC bootstrap, ${args.images} images x 3 seeds a side, ${args.resamples} resamples (best of ${args.repeats}):`);
console.log(`  rank-sum auc (reference) ${reference.ms.toFixed(0)} ms`);
console.log(`  auc (per-class typed sort) ${ours.ms.toFixed(0)} ms   ratio ${(reference.ms / ours.ms).toFixed(2)}x   largest CI difference ${gap}`);
