/**
 * Test helper process (torch.test.ts): starts a torch engine, prints the Python child's pid and
 * waits to be killed. The test SIGKILLs this process and checks that the child exits too.
 */
import { encoderSpec, type HeadSpec, initWeights } from '@cxr-ssl/models';
import { TorchEngine } from './torch.ts';

const encoder = encoderSpec('vgg-small');
const head: HeadSpec = { kind: 'classifier', views: 1, hidden: 8, classes: 4 };
const engine = new TorchEngine({ device: 'cpu', threads: 1 });
await engine.init({ encoder, head, weights: initWeights(encoder, head, 1), optimizer: { lr: 0.01, momentum: 0.9, weightDecay: 0 }, seed: 1 });
process.stdout.write(`${JSON.stringify({ child: engine.pid })}\n`);
setInterval(() => {}, 1000);
