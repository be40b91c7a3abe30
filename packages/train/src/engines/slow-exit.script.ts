/**
 * Test helper process (protocol.test.ts): a pipe child that takes 2 s to exit after its stdin closes,
 * shut down with a grace of 300 ms (so it is killed), awaited at the top level with nothing else to
 * keep this process alive. Prints `{"closed":true}` once shutdown returns.
 */
import { PipeClient } from './protocol.ts';

const client = new PipeClient('sh', ['-c', 'cat >/dev/null; sleep 2'], { label: 'slow child' });
await client.shutdown(300);
process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
