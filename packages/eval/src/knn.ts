import { z } from 'zod';
import { bool, int, num } from './option-fields.ts';
import { BINARY_HEAD, type FeatureSplit, type HeadKind, type Standardiser, standardiser } from './linear.ts';

/**
 * Cosine k-nearest-neighbour classifier on frozen features: a second, training-free probe of
 * representation quality, as in InstDisc (Wu et al. 2018) and DINO. Rows are L2-normalised; each
 * of a test row's k most similar train rows votes for its label with weight exp(similarity / T),
 * and the score is the abnormal share of the votes (ties in similarity: lower train row first).
 * Cost is test rows x train rows x dim: fine for fixture and subset runs, minutes for full NIH.
 */
export const KnnOptions = z
  .object({
    k: int().positive().default(20).describe('neighbours that vote'),
    /** larger T tends to an unweighted majority */
    temperature: num().positive().default(0.07).describe('vote temperature T: weights exp(similarity / T), as in InstDisc (Wu et al. 2018)'),
    /**
     * post-ReLU features are all positive, and uncentred cosine mostly compares their mean
     */
    standardise: bool().default(true).describe("standardise features with the train rows' mean and std first, as the linear head does"),
  })
  .strict();
export type KnnOptions = z.input<typeof KnnOptions>;

function normalisedRows(features: Float32Array, dim: number, z?: Standardiser): Float32Array {
  const out = new Float32Array(features.length);
  for (let o = 0; o < features.length; o += dim) {
    for (let j = 0; j < dim; j++) out[o + j] = z ? (features[o + j] - z.mean[j]) * z.invStd[j] : features[o + j];
    let s = 0;
    for (let j = 0; j < dim; j++) s += out[o + j] * out[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[o + j] *= inv;
  }
  return out;
}

/** P(abnormal) per test row: the abnormal share of the exp(sim / T)-weighted votes of its k nearest train rows. */
export function knnScores(dim: number, train: FeatureSplit, test: FeatureSplit, options: KnnOptions = {}): Float32Array {
  const votes = knnVotes(dim, train, test, options, BINARY_HEAD);
  return Float32Array.from({ length: votes.length / 2 }, (_, i) => votes[i * 2 + 1]);
}

/**
 * Per test row, the exp(sim / T)-weighted votes of its k nearest train rows: each class's share (a
 * softmax target: rows x classes), or for several labels per image each output's share of the votes
 * of neighbours that have it (rows x outputs; `labels` row-major 0/1).
 */
export function knnVotes(dim: number, train: FeatureSplit, test: FeatureSplit, options: KnnOptions, kind: HeadKind): Float32Array {
  const { k: kWanted, standardise, temperature } = KnnOptions.parse(options);
  const C = kind.kind === 'softmax' ? kind.classes : kind.outputs;
  const perRow = kind.kind === 'softmax' ? 1 : C;
  const nTrain = train.features.length / dim;
  const nTest = test.features.length / dim;
  if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || train.labels.length !== nTrain * perRow || test.labels.length !== nTest * perRow) {
    throw new Error(`knnScores: features do not match labels x dim ${dim} (train ${train.features.length}, test ${test.features.length})`);
  }
  if (nTrain === 0) throw new Error('knnScores: the train split is empty');
  const k = Math.min(kWanted, nTrain);
  const z = standardise ? standardiser(train, dim) : undefined;
  const a = normalisedRows(train.features, dim, z);
  const b = normalisedRows(test.features, dim, z);
  const topSim = new Float64Array(k);
  const topIdx = new Int32Array(k);
  const votes = new Float64Array(C);
  const out = new Float32Array(nTest * C);
  for (let t = 0; t < nTest; t++) {
    topSim.fill(Number.NEGATIVE_INFINITY);
    topIdx.fill(-1);
    const bo = t * dim;
    for (let r = 0; r < nTrain; r++) {
      const ao = r * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += a[ao + j] * b[bo + j];
      if (s <= topSim[k - 1]) continue; // strict: an equal later row never displaces an earlier one
      let p = k - 1;
      while (p > 0 && topSim[p - 1] < s) {
        topSim[p] = topSim[p - 1];
        topIdx[p] = topIdx[p - 1];
        p--;
      }
      topSim[p] = s;
      topIdx[p] = r;
    }
    // weights relative to the nearest row: exp((s - s0) / T) in (0, 1], no overflow at small T
    votes.fill(0);
    let all = 0;
    for (let q = 0; q < k; q++) {
      const w = Math.exp((topSim[q] - topSim[0]) / temperature);
      all += w;
      const r = topIdx[q];
      if (kind.kind === 'softmax') votes[train.labels[r]] += w;
      else for (let c = 0; c < C; c++) if (train.labels[r * C + c] === 1) votes[c] += w;
    }
    for (let c = 0; c < C; c++) out[t * C + c] = votes[c] / all;
  }
  return out;
}
