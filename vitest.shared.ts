import { defineConfig } from 'vitest/config';

/**
 * Every workspace runs its tests on the TypeScript sources of its dependencies
 * (the `source` export condition), so a test never depends on a stale build.
 * Each run also writes a JSON report that `.ci/run` sums into one line.
 */
export function workspaceTestConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      include: options.include ?? ['src/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 15_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.reports/vitest.json' },
    },
  });
}
