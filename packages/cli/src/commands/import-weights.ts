import { resolve } from 'node:path';
import { ENCODERS } from '@cxr-ssl/models';
import { importTorchvisionVgg16 } from '@cxr-ssl/models/import';
import { findTorchPython } from '@cxr-ssl/train';
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { UsageError } from '../config-file.ts';
import { loadImagenetWeights } from '../imagenet.ts';

export const ImportOptions = z
  .object({
    from: z.enum(['torchvision', 'tfjs-layers']),
    /** torchvision .pth, or a TensorFlow.js layers folder (model.json + shards) */
    input: z.string(),
    out: z.string(),
    encoder: z.enum(Object.keys(ENCODERS) as [string, ...string[]]).default('vgg16'),
    python: z.string().optional(),
  })
  .strict();

/**
 * ImageNet weights a user has -> canonical grey safetensors (first conv summed over RGB, which
 * equals feeding the grey image replicated to three channels), usable as `--init` and `imagenet:`.
 */
export const importWeights = defineCommand({
  name: 'import-weights',
  summary: 'Convert ImageNet weights (torchvision VGG16 .pth, or TensorFlow.js layers) to canonical safetensors',
  flags: [
    ['--from <kind>', 'torchvision | tfjs-layers'],
    ['--input <path>', 'the .pth file (torchvision) or the folder with model.json (tfjs-layers)'],
    ['--out <file>', 'safetensors file to write'],
    ['--encoder <name>', `encoder the weights are for (default vgg16; tfjs-layers also: mobilenetv2-0.35)`],
    ['--python <path>', 'python with torch, for torchvision .pth files'],
  ],
  schema: ImportOptions,
  async run(o) {
    const out = resolve(o.out);
    if (o.from === 'torchvision') {
      if (o.encoder !== 'vgg16') throw new UsageError('torchvision import supports --encoder vgg16');
      const py = findTorchPython(o.python);
      if ('error' in py) throw new UsageError(`reading a .pth needs a Python with torch: ${py.error}`);
      const r = importTorchvisionVgg16(resolve(o.input), out, py.path);
      console.log(`wrote ${out}: ${r.tensors} tensors${r.dropped.length ? `; dropped ${r.dropped.length} (classifier)` : ''}`);
    } else {
      const { safetensors } = loadImagenetWeights(o.encoder, resolve(o.input), resolve(out, '..'));
      console.log(`wrote ${safetensors} (and ${o.encoder}.onnx beside it)`);
    }
  },
});
