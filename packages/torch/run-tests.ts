/**
 * `npm test -w @cxr-ssl/torch` runs this after vitest: the cxr_torch unittest suite on the torch
 * Python (findTorchPython). No such Python: FAIL when $CI is set, else skip with a loud message.
 */
import { spawnSync } from 'node:child_process';
import { findTorchPython, PYTHON_PACKAGE_DIR } from './src/python.ts';

const python = findTorchPython();
if ('error' in python) {
  const banner = `\n${'!'.repeat(78)}\n  cxr_torch Python tests NOT RUN: ${python.error}\n${'!'.repeat(78)}\n`;
  console.error(banner);
  process.exit(process.env.CI ? 1 : 0);
}
console.log(`cxr_torch tests on ${python.path} (torch ${python.torchVersion}${python.cuda ? ', CUDA' : ''})`);
const r = spawnSync(python.path, ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
  cwd: PYTHON_PACKAGE_DIR,
  stdio: 'inherit',
  env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
});
process.exit(r.status ?? 1);
