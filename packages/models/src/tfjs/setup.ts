import * as tf from '@tensorflow/tfjs-core';
// tfjs-core without the @tensorflow/tfjs umbrella (which brought webgl, converter, data and
// core-js, none used): the gradients (vendor/tfjs-gradients.cjs: tfjs-core ships them only as ES
// modules Node cannot load) and the plain-JavaScript backend (--backend cpu, the reference the wasm
// kernels are checked against) are registered here, as the umbrella did.
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-kernels.ts';

createRequire(import.meta.url)('./vendor/tfjs-gradients.cjs');

export type TfjsBackendChoice = 'auto' | 'wasm' | 'cpu';

/** Dynamic import by a variable name so missing optional packages are not a type or bundle error. */
async function tryImport(name: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ name);
    return true;
  } catch {
    return false;
  }
}

function describe(backend: string): string {
  if (backend === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    return `wasm (${simd}, ${getThreadsCount()} thread${getThreadsCount() === 1 ? '' : 's'})`;
  }
  if (backend === 'tensorflow') return 'tfjs-node (native TensorFlow)';
  return `${backend} (plain JavaScript)`;
}

/**
 * Picks and initialises the tfjs backend; returns a human-readable description.
 *  auto: native tfjs-node-gpu, then tfjs-node, when installed; else wasm.
 *  wasm: XNNPACK in WebAssembly (our conv gradient kernels are registered here).
 *  cpu:  plain JavaScript, slow, the reference the wasm kernels are checked against.
 */
export async function setupTfjs(prefer: TfjsBackendChoice = 'auto'): Promise<string> {
  if (prefer === 'auto') {
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      if ((await tryImport(name)) && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return `${describe('tensorflow')} via ${name}`;
      }
    }
  }
  const backend = prefer === 'cpu' ? 'cpu' : 'wasm';
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmConvGradients();
  }
  if (!(await tf.setBackend(backend))) {
    throw new Error(`Could not initialise the tfjs "${backend}" backend. Try --backend cpu, or reinstall @tensorflow/tfjs-backend-wasm.`);
  }
  await tf.ready();
  return describe(backend);
}
