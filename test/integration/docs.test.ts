import { readFileSync } from 'node:fs';
import { errorCodes } from '@mailroute/core';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Table rows as trimmed cells, whatever the column padding. */
const rows = readme
  .split('\n')
  .filter((line) => line.trim().startsWith('|'))
  .map((line) =>
    line
      .trim()
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );

describe('README', () => {
  it('documents every error code with its category and description', () => {
    for (const [code, spec] of Object.entries(errorCodes)) {
      const row = rows.find((cells) => cells[0] === `\`${code}\``);
      expect(row, `README has no row for ${code}`).toBeDefined();
      expect(row?.[1]).toBe(spec.category);
      expect(row?.[3]).toBe(spec.description);
    }
  });
});
