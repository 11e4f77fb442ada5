import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'mappings/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // isolated-vm (the mapping sandbox) requires --no-node-snapshot (Node 20 and later).
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Tests that start processes or brokers are heavy on a 2-core machine; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
