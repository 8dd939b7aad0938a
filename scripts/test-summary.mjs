// Sums the vitest JSON reports every workspace wrote during `npm test` into one line,
// so a run that executed no test is visible at a glance.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reports = [];
for (const group of ['packages', 'apps', 'test']) {
  const base = join(root, group);
  let entries = [];
  try {
    entries = readdirSync(base);
  } catch {
    continue;
  }
  for (const dir of ['.', ...entries]) {
    const file = join(base, dir, '.reports', 'vitest.json');
    try {
      if (statSync(file).isFile()) reports.push(file);
    } catch {}
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load counts no tests; count it as a failure so it is not hidden.
  if (report.numFailedTestSuites > 0 && report.numFailedTests === 0) failed += report.numFailedTestSuites;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
