import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseConfig } from '../config/load.js';
import { alertTitles } from './notices.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Alerts'), readme.indexOf('## Delivery tracking'));
const runbook = readFileSync(new URL('../../../../docs/runbook.md', import.meta.url), 'utf8');

test("the README's alert settings example is a valid configuration with both channels", () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const config = parseConfig(yaml, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', OPS_HOOK_TOKEN: 't' });
  expect(config.alerts.channels.slack?.url).toBe('https://hooks.slack.com/services/T0/B0/x');
  expect(config.alerts.channels.webhook).toMatchObject({ headers: { authorization: 'Bearer t' }, timeoutMs: 5_000 });
});

test('every alert kind has its row in the README and the runbook section its notices point at', () => {
  for (const [kind, { title, runbook: link }] of Object.entries(alertTitles)) {
    expect(section).toContain(`| \`${kind}\` |`);
    const anchor = link.split('#')[1] ?? '';
    const headings = [...runbook.matchAll(/^### (.+)$/gm)].map((match) =>
      (match[1] ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    );
    expect(headings, `${title}: docs/runbook.md has no "### ${title}"`).toContain(anchor);
  }
});
