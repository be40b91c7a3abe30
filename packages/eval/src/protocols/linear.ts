import { LinearOptions, trainLinearHead } from '../linear.ts';
import { defineProtocol, headKind, scoredOutputs } from './protocol.ts';

/** The study's protocol: the 2-layer head on the frozen encoder's standardised features (linear.ts). */
export const linear = defineProtocol({
  summary: "the study's: frozen features -> dense(hidden) + ReLU -> dense(2), Adam (dense(classes) + softmax, or a sigmoid per finding, for other targets)",
  options: LinearOptions.omit({ seed: true }),
  flagPrefix: '',
  // --batch-size is the feature-extraction batch
  flagNames: { batchSize: 'head-batch-size' },
  async run({ options, seed, target, features }) {
    const f = await features();
    const r = trainLinearHead({ dim: f.dim, train: f.train, val: f.val, test: f.test, options: { ...options, seed }, head: headKind(target) });
    return { probs: scoredOutputs(target, r.testOutputs!), ...(r.valOutputs ? { valProbs: scoredOutputs(target, r.valOutputs) } : {}), history: r.history };
  },
});
