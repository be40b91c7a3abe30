/**
 * Has a projector-head run (SimCLR, MoCo, BYOL, DINO) collapsed? A loss near 0 with held-out top-1 at
 * chance (BYOL), or at ln K (DINO), is the sign; this measures it on held-out X-rays (eval's
 * measureCollapse, cxr_torch/collapse.py): per output, the mean pairwise cosine between images, the
 * effective rank, and the sd over images and within an image.
 *   npx tsx tools/probe/collapse.ts --run <run folder> [--images 128] [--step <checkpoint step>]
 * (the torch engine's Python: $CXR_SSL_PYTHON or the usual search)
 */
import { parseArgs } from 'node:util';
import { measureCollapse } from '@cxr-ssl/eval';

const { values: a } = parseArgs({ options: { run: { type: 'string' }, images: { type: 'string', default: '128' }, step: { type: 'string' } } });
if (!a.run) {
  console.error('usage: collapse.ts --run <pretext run folder> [--images 128] [--step <checkpoint step>]');
  process.exit(2);
}
try {
  console.log(measureCollapse(a.run, { images: Number(a.images), ...(a.step ? { step: Number(a.step) } : {}) }).text);
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
