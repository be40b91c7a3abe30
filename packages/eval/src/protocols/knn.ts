import { KnnOptions, knnVotes } from '../knn.ts';
import { defineProtocol, headKind, scoredOutputs } from './protocol.ts';

/** Cosine k-nearest neighbours on the frozen features: nothing trained (knn.ts). */
export const knn = defineProtocol({
  summary: 'cosine k nearest neighbours on frozen features, temperature-weighted votes (per class, or per finding)',
  options: KnnOptions,
  flagPrefix: '',
  async run({ options, target, features }) {
    const f = await features();
    const votes = (split: typeof f.test) => scoredOutputs(target, knnVotes(f.dim, f.train, split, options, headKind(target)));
    return { probs: votes(f.test), ...(f.val ? { valProbs: votes(f.val) } : {}) };
  },
});
