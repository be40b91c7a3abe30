/**
 * Writes {encoder, head (models' torchModel), loss, scalars, views} JSON for cxr_torch.bench_raw: the same specs gpu-run.ts
 * trains, so the raw references run the very same network, loss and per-step scalars (those of step 0),
 * on views of the same shapes; `views` ({source, blocks: [{views, patch, augment}]}: the whole views,
 * then a multi-crop method's local ones) also gives the augmented reference the sampler's own lists.
 *   spec.ts <encoder> <method> <size> <out.json>
 * Prints the sample shape "views,patch" (a multi-crop method's whole views only).
 */
import { writeFileSync } from 'node:fs';
import { encoderSpec, torchModel } from '@cxr-ssl/models';
import { parseMethod } from '../../packages/train/src/method-options.ts';

const [encoderName, methodName, size, out] = process.argv.slice(2);
const method = parseMethod(methodName, {});
const encoder = encoderSpec(encoderName);
const { views, patch, local } = method.method.sampler.shape(Number(size), method.samplerOptions);
const lists = method.samplerOptions as { augment?: unknown[]; localAugment?: unknown[] };
const blocks = [{ views, patch, augment: lists.augment ?? [] }, ...(local ? [{ views: local.views, patch: local.patch, augment: lists.localAugment ?? [] }] : [])];
writeFileSync(out, JSON.stringify({ ...torchModel(encoder, method.head(encoder)), loss: method.loss, scalars: method.scalarsAt(0, 1, 0.001), views: { source: Number(size), blocks } }));
console.log(`${views},${patch}`);
