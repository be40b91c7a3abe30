import { EngineOption, createEngine } from '@cxr-ssl/train';
import { FinetuneOptions, finetuneEvaluation, finetuneStepsPerEpoch } from '../finetune.ts';
import { defineProtocol, scoredOutputs } from './protocol.ts';

/** The encoder unfrozen under the head, trained through a training engine, scored through its ONNX export (finetune.ts). */
export const finetune = defineProtocol({
  summary: 'the encoder unfrozen under the head, trained through an engine with SGD and momentum, lr decayed per epoch (softmax targets: abnormal, classes)',
  options: FinetuneOptions.omit({ seed: true }).extend({ engine: EngineOption.describe('the fine-tuning engine') }),
  flagPrefix: 'ft-',
  flagNames: { engine: 'engine' },
  runtimeOptions: ['engine'],
  // the engines' classifier loss takes one class per image: several findings per image need a per-output loss there first
  targets: ['abnormal', 'classes'],
  async run({ options: { engine: asked, ...options }, seed, target, encoder, images, train, val, test, runtime }) {
    const classes = target.head.kind === 'softmax' ? target.head.classes.length : 0;
    const { engine, name, reason } = await createEngine(asked, { torch: { python: runtime.python } }, { method: 'fine-tuning' });
    runtime.log(`fine-tuning ${encoder.label} on ${train.rows.length} images, seed ${seed}: engine ${name} (${reason})`);
    const bar = runtime.progress(`finetune ${encoder.label}`, options.epochs * finetuneStepsPerEpoch(train.rows.length, options.batchSize));
    try {
      const r = await finetuneEvaluation({
        engine,
        encoder: encoder.spec,
        weights: encoder.weights(),
        images,
        train,
        val,
        test,
        classes,
        options: { ...options, seed },
        provider: runtime.provider,
        onStep: ({ done, epoch, loss, accuracy }) => bar.update(done, { epoch: String(epoch), loss: loss.toFixed(4), acc: accuracy.toFixed(3) }),
      });
      return { probs: scoredOutputs(target, r.outputs), ...(r.valOutputs ? { valProbs: scoredOutputs(target, r.valOutputs) } : {}), history: r.history };
    } finally {
      bar.stop();
      await engine.close();
    }
  },
});
