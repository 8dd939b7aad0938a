import { readFileSync } from 'node:fs';
import { errorCodes } from '@mailroute/core';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every error code with its category and description', () => {
    for (const [code, spec] of Object.entries(errorCodes)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `README has no row for ${code}`).toBeDefined();
      expect(row).toContain(`| ${spec.category} |`);
      expect(row).toContain(spec.description);
    }
  });
});
