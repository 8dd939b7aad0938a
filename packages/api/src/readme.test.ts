import { readFileSync } from 'node:fs';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { expect, test } from 'vitest';
import { apiErrorCodes } from './errors.js';

test('the README error table says what errors.ts says', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `([A-Z_]+)` +\| (\d{3}) +\| (.+?) +\|$/gm)].map(([, code, status, meaning]) => ({
    code,
    status,
    meaning,
  }));
  expect(rows).toEqual(
    Object.entries(apiErrorCodes).map(([code, entry]) => ({
      code,
      status: String(getHTTPStatusCodeFromError(new TRPCError({ code: entry.trpc }))),
      meaning: entry.description,
    })),
  );
});
