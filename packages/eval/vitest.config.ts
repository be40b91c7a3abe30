import { defineConfig } from 'vitest/config';

// Training and ONNX parity tests run real (small) networks on 2 CPU cores: give them time.
// globalSetup: one line at the end naming the torch suites skipped for want of torch (not under CI: there they fail).
export default defineConfig({
  test: { testTimeout: 300_000, hookTimeout: 300_000, pool: 'forks', fileParallelism: false, globalSetup: ['../torch/src/testing/torch-skip-summary.ts'] },
});
