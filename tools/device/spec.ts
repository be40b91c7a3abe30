/**
 * Writes {encoder, head} JSON for cxr_torch.bench_raw: the same specs gpu-run.ts trains, so the
 * raw reference runs the very same network.  spec.ts <encoder> <task> <size> <out.json>
 * Prints the sample shape "views,patch".
 */
import { writeFileSync } from 'node:fs';
import { getTask } from '@cxr-ssl/data';
import { encoderSpec, headSpec } from '@cxr-ssl/models';

const [encoderName, taskName, size, out] = process.argv.slice(2);
const task = getTask(taskName);
const opts = task.options.parse(taskName === 'jigsaw' ? { permutations: 100 } : {});
const encoder = encoderSpec(encoderName);
const head = headSpec(taskName, encoder, { classes: task.classes(opts) });
writeFileSync(out, JSON.stringify({ encoder, head }));
const { views, patch } = task.shape(Number(size), opts);
console.log(`${views},${patch}`);
