import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaCanExist, openEncoderSession } from './session.ts';
import { testEncoder } from './testing/encoder.ts';

// The npm onnxruntime-node build ships no CUDA provider library: there, asking for CUDA must fall back.
const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
const cudaLib = join(ortDir, '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
const cudaMissing = !existsSync(cudaLib);

describe('openEncoderSession', () => {
  const { onnx } = testEncoder();

  it('opens on the CPU when asked, without a note', async () => {
    const s = await openEncoderSession(onnx, { provider: 'cpu', threads: 1 });
    expect(s.provider).toBe('cpu');
    expect(s.note).toBeUndefined();
    expect(s.session.inputNames).toEqual(['pixels']);
    expect(s.session.outputNames).toEqual(['features']);
    await s.session.release();
  });

  describe.skipIf(!cudaMissing)(`CUDA requested without a CUDA build (${cudaLib} absent)`, () => {
    it("'cuda' falls back to cpu and says so", async () => {
      const s = await openEncoderSession(onnx, { provider: 'cuda' });
      expect(s.provider).toBe('cpu');
      expect(s.note).toMatch(/asked for 'cuda': the CUDA provider failed \(.+\); running on the CPU/);
      await s.session.release();
    });
  });

  // the default on a CPU machine: no "Failed to load shared library" line on every evaluation
  describe.skipIf(cudaCanExist())('auto where CUDA cannot exist (no provider library or no NVIDIA driver)', () => {
    it("'auto' opens on the CPU without asking for CUDA, so without a note", async () => {
      const s = await openEncoderSession(onnx, { provider: 'auto' });
      expect(s.provider).toBe('cpu');
      expect(s.note).toBeUndefined();
      await s.session.release();
    });
  });

  it('names the file when it cannot be read or parsed', async () => {
    await expect(openEncoderSession('/nonexistent/encoder.onnx', { provider: 'cpu' })).rejects.toThrow(
      /\/nonexistent\/encoder.onnx: cannot read the encoder/,
    );
    await expect(openEncoderSession(new Uint8Array([1, 2, 3]), { provider: 'cpu' })).rejects.toThrow(
      /encoder.onnx \(in memory\): onnxruntime cannot load the encoder/,
    );
  });

  it('validates options', async () => {
    // @ts-expect-error: not a provider
    await expect(openEncoderSession(onnx, { provider: 'tpu' })).rejects.toThrow();
  });
});
