/**
 * Test helper process (checkpoint-kill.test.ts): writes checkpoints of ~4 MB in a loop, each
 * tensor filled with its step number, and prints the step after each one until it is killed.
 */
import { writeCheckpoint } from '../checkpoint.ts';

const runDir = process.argv[2];
for (let step = 1; ; step++) {
  const fill = (n: number) => ({ shape: [n], data: new Float32Array(n).fill(step) });
  const weights = new Map([['features.0.weight', fill(1 << 20)], ['head.fc2.weight', fill(1000)]]);
  const optimizer = new Map([['features.0.weight', fill(1 << 20)]]);
  const state = { version: 1 as const, epoch: step, batch: 0, step, configHash: 'kill-test', engine: 'none', created: new Date().toISOString() };
  writeCheckpoint(runDir, state, weights, optimizer);
  process.stdout.write(`${step}\n`);
}
