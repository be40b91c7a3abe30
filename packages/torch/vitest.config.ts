import { defineConfig } from 'vitest/config';

// globalSetup: one line at the end naming the torch suites skipped for want of torch (not under CI: there they fail).
export default defineConfig({
  test: { testTimeout: 120_000, pool: 'forks', globalSetup: ['./src/testing/torch-skip-summary.ts'] },
});
