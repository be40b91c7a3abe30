import { EngineOption, createEngine } from '@cxr-ssl/train';
import { FinetuneOptions, finetuneEvaluation, finetuneStepsPerEpoch } from '../finetune.ts';
import { defineProtocol } from './protocol.ts';

/** The encoder unfrozen under the head, trained through a training engine, scored through its ONNX export (finetune.ts). */
export const finetune = defineProtocol({
  summary: 'the encoder unfrozen under the head, trained through an engine with SGD and momentum, lr decayed per epoch',
  options: FinetuneOptions.omit({ seed: true }).extend({ engine: EngineOption.describe('the fine-tuning engine') }),
  flagPrefix: 'ft-',
  flagNames: { engine: 'engine' },
  runtimeOptions: ['engine'],
  async run({ options: { engine: asked, ...options }, seed, encoder, images, train, val, test, runtime }) {
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
        options: { ...options, seed },
        provider: runtime.provider,
        onStep: ({ done, epoch, loss, accuracy }) => bar.update(done, { epoch: String(epoch), loss: loss.toFixed(4), acc: accuracy.toFixed(3) }),
      });
      return { probs: r.probs, history: r.history };
    } finally {
      bar.stop();
      await engine.close();
    }
  },
});
