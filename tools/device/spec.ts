/**
 * Writes {encoder, head, loss} JSON for cxr_torch.bench_raw: the same specs gpu-run.ts trains, so
 * the raw reference runs the very same network and loss.  spec.ts <encoder> <method> <size> <out.json>
 * Prints the sample shape "views,patch".
 */
import { writeFileSync } from 'node:fs';
import { getSampler } from '@cxr-ssl/data';
import { encoderSpec } from '@cxr-ssl/models';
import { methodHead, methodLoss } from '../../packages/train/src/method-options.ts';

const [encoderName, taskName, size, out] = process.argv.slice(2);
const task = getSampler(taskName);
const opts = task.options.parse({}) as Record<string, unknown>;
const encoder = encoderSpec(encoderName);
const head = methodHead(taskName, encoder, opts);
writeFileSync(out, JSON.stringify({ encoder, head, loss: methodLoss(taskName, opts) }));
const { views, patch } = task.shape(Number(size), opts);
console.log(`${views},${patch}`);
