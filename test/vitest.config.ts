import { workspaceTestConfig } from '../vitest.shared.js';

export default workspaceTestConfig({
  include: ['integration/**/*.test.ts', 'chaos/**/*.test.ts', 'e2e/**/*.test.ts'],
  testTimeout: 60_000,
});
