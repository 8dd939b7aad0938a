import type { FieldIssue } from '@mailroute/core';
import { ApiFault } from './errors.js';

// A lone surrogate is not Unicode text: JSON carries it, but PostgreSQL (and most mail paths) cannot.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** No procedure's input nests deeper than a handful of levels; deeper input is refused before any walk over it. */
export const MAX_INPUT_DEPTH = 32;

function problem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (a lone surrogate was found)';
  return undefined;
}

interface PathNode {
  readonly key: string;
  readonly parent: PathNode | undefined;
}

function pathOf(node: PathNode | undefined): string {
  const keys: string[] = [];
  for (let at = node; at; at = at.parent) keys.unshift(at.key.replace(/[^\x20-\x7e]/g, '?'));
  return keys.join('.') || '(input)';
}

/**
 * The first string (value or field name) in an input that no database can store, or the
 * first place it nests too deeply, with its path. Iterative and linear in the input's size.
 */
export function unstorableText(input: unknown): FieldIssue | undefined {
  const pending: [value: unknown, path: PathNode | undefined, depth: number][] = [[input, undefined, 0]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [value, path, depth] = item;
    if (typeof value === 'string') {
      const message = problem(value);
      if (message) return { path: pathOf(path), message };
    } else if (typeof value === 'object' && value !== null) {
      if (depth >= MAX_INPUT_DEPTH) return { path: pathOf(path), message: `nested deeper than ${MAX_INPUT_DEPTH} levels` };
      for (const [key, child] of Object.entries(value)) {
        const node = { key, parent: path };
        const message = problem(key);
        if (message) return { path: pathOf(node), message: `field name ${message}` };
        pending.push([child, node, depth + 1]);
      }
    }
  }
  return undefined;
}

export function unstorableTextFault(input: unknown): ApiFault | undefined {
  const issue = unstorableText(input);
  return issue ? new ApiFault('INVALID_INPUT', `invalid input: ${issue.path}: ${issue.message}`, [issue]) : undefined;
}
