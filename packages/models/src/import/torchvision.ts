import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';

/** The Python package holding import_torchvision.py (packages/train/python, next to the torch engine). */
export const TORCH_PYTHON_DIR = resolve(import.meta.dirname, '..', '..', '..', 'train', 'python');

const Answer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), out: z.string(), tensors: z.number().int(), dropped: z.array(z.string()) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/**
 * torchvision VGG16 ImageNet weights (a user's .pth, e.g. vgg16-397923af.pth) -> canonical grey
 * safetensors at `outPath` for the `vgg16` encoder, by running cxr_torch/import_torchvision.py
 * with `python` (it needs torch): features.N kept, features.0 summed over RGB, classifier dropped.
 */
export function importTorchvisionVgg16(
  pthPath: string,
  outPath: string,
  python = 'python3',
): { tensors: number; dropped: string[] } {
  const run = spawnSync(python, ['-m', 'cxr_torch.import_torchvision', pthPath, outPath], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: [TORCH_PYTHON_DIR, process.env.PYTHONPATH].filter(Boolean).join(':') },
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
  if (!answer.ok) throw new Error(`Importing torchvision VGG16 weights failed: ${answer.error}`);
  return { tensors: answer.tensors, dropped: answer.dropped };
}
