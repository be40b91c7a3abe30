// postinstall: onnxruntime-node ships its native library for every OS and CPU (darwin, win32,
// linux; x64 and arm64: 245 MB of its 288 MB). Only this machine's is ever loaded, so the others
// are removed. npm ci reinstalls them all on a machine of another kind; nothing else is touched.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'node_modules', 'onnxruntime-node', 'bin');
let freed = 0;
for (const napi of existsSync(root) ? readdirSync(root) : []) {
  for (const os of readdirSync(join(root, napi))) {
    for (const arch of readdirSync(join(root, napi, os))) {
      if (os === process.platform && arch === process.arch) continue;
      rmSync(join(root, napi, os, arch), { recursive: true, force: true });
      freed++;
    }
  }
}
if (freed > 0) console.log(`prune-native: removed onnxruntime-node's libraries for ${freed} other platform(s); kept ${process.platform}-${process.arch}`);
