import { defineConfig } from 'vitest/config';

// Training and ONNX parity tests run real (small) networks on 2 CPU cores: give them time.
export default defineConfig({
  test: { testTimeout: 300_000, hookTimeout: 300_000, pool: 'forks', fileParallelism: false },
});
