/**
 * Writes {encoder, head, loss, scalars} JSON for cxr_torch.bench_raw: the same specs gpu-run.ts trains,
 * so the raw reference runs the very same network, loss and per-step scalars (those of step 0).
 *   spec.ts <encoder> <method> <size> <out.json>
 * Prints the sample shape "views,patch" (a multi-crop method's whole views only).
 */
import { writeFileSync } from 'node:fs';
import { encoderSpec, torchModel } from '@cxr-ssl/models';
import { parseMethod } from '../../packages/train/src/method-options.ts';

const [encoderName, methodName, size, out] = process.argv.slice(2);
const method = parseMethod(methodName, {});
const encoder = encoderSpec(encoderName);
writeFileSync(out, JSON.stringify({ ...torchModel(encoder, method.head(encoder)), loss: method.loss, scalars: method.scalarsAt(0, 1, 0.001) }));
const { views, patch } = method.method.sampler.shape(Number(size), method.samplerOptions);
console.log(`${views},${patch}`);
