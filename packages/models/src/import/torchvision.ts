import { spawnSync } from 'node:child_process';
import { PYTHON_PACKAGE_DIR } from '@cxr-ssl/torch';
import { z } from 'zod';
import { encoderSpec } from '../encoders/index.ts';


const Answer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), out: z.string(), tensors: z.number().int(), dropped: z.array(z.string()) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** Our encoders that torchvision ImageNet weights import into, with the torchvision model they mirror. */
export const TORCHVISION_MODELS: Record<string, string> = {
  'vgg16-torchvision': 'vgg16',
  'vgg16-bn-torchvision': 'vgg16_bn',
  'resnet18-torchvision': 'resnet18',
  'resnet50-torchvision': 'resnet50',
  'densenet121-torchvision': 'densenet121',
};

/**
 * torchvision ImageNet weights (a user's .pth, e.g. vgg16-397923af.pth, vgg16_bn-6c64b313.pth,
 * resnet18-f37072fd.pth, resnet50-11ad3fa6.pth, densenet121-a639ec97.pth with its legacy `norm.1` names) -> canonical safetensors at `outPath` for `encoder` (a key of
 * TORCHVISION_MODELS), by running cxr_torch/import_torchvision.py with `python` (it needs torch):
 * weights and BatchNorm statistics checked by name and shape against the encoder and kept; the
 * classifier / fc and num_batches_tracked dropped. The safetensors metadata names the encoder.
 */
export function importTorchvision(
  pthPath: string,
  outPath: string,
  encoder = 'vgg16-torchvision',
  python = 'python3',
): { tensors: number; dropped: string[] } {
  const model = TORCHVISION_MODELS[encoder];
  if (!model) throw new Error(`No torchvision import for encoder "${encoder}". Choose one of: ${Object.keys(TORCHVISION_MODELS).join(', ')}.`);
  const run = spawnSync(python, ['-m', 'cxr_torch.import_torchvision', pthPath, outPath], {
    encoding: 'utf8',
    input: JSON.stringify({ model, encoder: encoderSpec(encoder) }),
    env: { ...process.env, PYTHONPATH: [PYTHON_PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(':') },
  });
  if (run.error) throw new Error(`Cannot run ${python} (${run.error.message}). Install Python 3 with PyTorch or pass its path.`);
  const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
  let answer: z.infer<typeof Answer>;
  try {
    answer = Answer.parse(JSON.parse(lastLine));
  } catch {
    throw new Error(
      `${python} -m cxr_torch.import_torchvision ${pthPath} failed (exit ${run.status}) without an answer: ${run.stderr.trim().slice(-800) || lastLine}. ` +
        'Check that this Python has torch (python3 -c "import torch").',
    );
  }
  if (!answer.ok) throw new Error(`Importing torchvision ${model} weights failed: ${answer.error}`);
  return { tensors: answer.tensors, dropped: answer.dropped };
}
