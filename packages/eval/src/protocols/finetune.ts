import { ENGINES, type EngineAsk, createEngine } from '@cxr-ssl/train';
import { z } from 'zod';
import { FinetuneOptions, finetuneEvaluation, finetuneStepsPerEpoch } from '../finetune.ts';
import { defineProtocol } from './protocol.ts';

const engines = ['auto', ...Object.keys(ENGINES)] as [EngineAsk, ...EngineAsk[]];

/** The encoder unfrozen under the head, trained through a training engine, scored through its ONNX export (finetune.ts). */
export const finetune = defineProtocol({
  summary: 'the encoder unfrozen under the head, trained through an engine with SGD and momentum, lr decayed per epoch',
  options: FinetuneOptions.omit({ seed: true }).extend({ engine: z.enum(engines).default('auto').describe(`fine-tuning engine: ${engines.join(' | ')}`) }),
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
