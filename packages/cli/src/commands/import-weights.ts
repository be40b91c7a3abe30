import { basename, dirname, resolve } from 'node:path';
import { importTorchvision, TORCHVISION_MODELS } from '@cxr-ssl/models/import';
import { findTorchPython } from '@cxr-ssl/torch';
import { z } from 'zod';
import { arg, defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { KERAS_IMPORTERS, loadImagenetWeights } from '../imagenet.ts';

/** Encoders each source imports into: the architecture plus the input scaling its weights were trained with. */
const TARGETS = { torchvision: Object.keys(TORCHVISION_MODELS), 'tfjs-layers': Object.keys(KERAS_IMPORTERS) };
/** The encoder each source imports into when --encoder names none. */
const DEFAULT_TARGET = { torchvision: 'vgg16-torchvision', 'tfjs-layers': 'vgg16-keras' } as const;

export const ImportOptions = z
  .object({
    from: z.enum(['torchvision', 'tfjs-layers']).meta(arg('<kind>', 'where the weights come from')),
    /** torchvision .pth, or a TensorFlow.js layers folder (model.json + shards) */
    input: z.string().meta(arg('<path>', 'the .pth file (torchvision) or the folder with model.json (tfjs-layers)')),
    out: z.string().meta(arg('<file>', 'safetensors file to write')),
    encoder: z
      .string()
      .optional()
      .meta(arg('<name>', `torchvision: ${TARGETS.torchvision.join(' | ')} (default ${DEFAULT_TARGET.torchvision}); tfjs-layers: ${TARGETS['tfjs-layers'].join(' | ')} (default ${DEFAULT_TARGET['tfjs-layers']})`)),
    python: z.string().optional().meta(arg('<path>', 'python with torch, for torchvision .pth files')),
  })
  .strict();


/**
 * ImageNet weights a user has -> canonical safetensors for an encoder that keeps the original
 * input scaling (torchvision mean / std, Keras caffe BGR; MobileNetV2 [-1, 1]), usable as
 * `--init` and `imagenet:`. The file's metadata names that encoder.
 */
export const importWeights = defineCommand({
  name: 'import-weights',
  summary: 'Convert ImageNet weights (torchvision .pth, or TensorFlow.js layers) to canonical safetensors',
  schema: ImportOptions,
  async run(o) {
    const out = resolve(o.out);
    const encoder = o.encoder ?? DEFAULT_TARGET[o.from];
    if (!TARGETS[o.from].includes(encoder)) {
      throw new UsageError(`--encoder ${encoder}: --from ${o.from} imports into ${TARGETS[o.from].join(', ')} (ImageNet weights keep their own input scaling)`);
    }
    if (o.from === 'torchvision') {
      const py = findTorchPython(o.python);
      if ('error' in py) throw new UsageError(`reading a .pth needs a Python with torch: ${py.error}`);
      const r = importTorchvision(resolve(o.input), out, encoder, py.path);
      console.log(`wrote ${out} for encoder ${encoder}: ${r.tensors} tensors${r.dropped.length ? `; dropped ${r.dropped.length} (classifier / fc, num_batches_tracked)` : ''}`);
    } else {
      const name = basename(out, '.safetensors');
      const { safetensors } = loadImagenetWeights(encoder, resolve(o.input), dirname(out), name);
      console.log(`wrote ${safetensors} for encoder ${encoder} (and ${name}.onnx beside it)`);
    }
  },
});
