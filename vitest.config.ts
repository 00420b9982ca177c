import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: multi-process cluster tests must not starve each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
