import { basename, dirname, resolve } from 'node:path';
import { importTorchvision, TORCHVISION_MODELS } from '@cxr-ssl/models/import';
import { findTorchPython } from '@cxr-ssl/torch';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { KERAS_IMPORTERS, loadImagenetWeights } from '../imagenet.ts';

export const ImportOptions = z
  .object({
    from: z.enum(['torchvision', 'tfjs-layers']),
    /** torchvision .pth, or a TensorFlow.js layers folder (model.json + shards) */
    input: z.string(),
    out: z.string(),
    /** default: vgg16-torchvision (torchvision), vgg16-keras (tfjs-layers) */
    encoder: z.string().optional(),
    python: z.string().optional(),
  })
  .strict();

/** Encoders each source imports into: the architecture plus the input scaling its weights were trained with. */
const TARGETS = { torchvision: Object.keys(TORCHVISION_MODELS), 'tfjs-layers': Object.keys(KERAS_IMPORTERS) };

/**
 * ImageNet weights a user has -> canonical safetensors for an encoder that keeps the original
 * input scaling (torchvision mean / std, Keras caffe BGR; MobileNetV2 [-1, 1]), usable as
 * `--init` and `imagenet:`. The file's metadata names that encoder.
 */
export const importWeights = defineCommand({
  name: 'import-weights',
  summary: 'Convert ImageNet weights (torchvision .pth, or TensorFlow.js layers) to canonical safetensors',
  flags: [
    ['--from <kind>', 'torchvision | tfjs-layers'],
    ['--input <path>', 'the .pth file (torchvision) or the folder with model.json (tfjs-layers)'],
    ['--out <file>', 'safetensors file to write'],
    ['--encoder <name>', `torchvision: ${TARGETS.torchvision.join(' | ')} (default vgg16-torchvision); tfjs-layers: ${TARGETS['tfjs-layers'].join(' | ')} (default vgg16-keras)`],
    ['--python <path>', 'python with torch, for torchvision .pth files'],
  ],
  schema: ImportOptions,
  async run(o) {
    const out = resolve(o.out);
    const encoder = o.encoder ?? (o.from === 'torchvision' ? 'vgg16-torchvision' : 'vgg16-keras');
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
