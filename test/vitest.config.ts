import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../vitest.shared.js';

// One file at a time: these suites start server processes and time what they do (kills under
// load, breaker timings); two of them sharing two cores make each other's timings lie.
export default mergeConfig(
  workspaceTestConfig({
    include: ['integration/**/*.test.ts', 'chaos/**/*.test.ts', 'e2e/**/*.test.ts', 'security/**/*.test.ts'],
    testTimeout: 60_000,
  }),
  defineConfig({ test: { fileParallelism: false } }),
);
