import { KnnOptions, knnScores } from '../knn.ts';
import { defineProtocol } from './protocol.ts';

/** Cosine k-nearest neighbours on the frozen features: nothing trained (knn.ts). */
export const knn = defineProtocol({
  summary: 'cosine k nearest neighbours on frozen features, temperature-weighted votes',
  options: KnnOptions,
  flagPrefix: '',
  async run({ options, features }) {
    const f = await features();
    return { probs: knnScores(f.dim, f.train, f.test, options) };
  },
});
