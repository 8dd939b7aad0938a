import { headline, type Notice, runbookOf } from '../notices.js';
import { type PostOptions, postJson } from './http.js';

const EMOJI = { firing: ':rotating_light:', reminder: ':warning:', resolved: ':white_check_mark:' } as const;

export interface SlackPayload {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

/**
 * Slack's incoming-webhook message: `text` is what notifications and clients without blocks
 * show; the blocks add when the condition began and where the runbook section is (a link when
 * the docs are published: `alerts.docsUrl`).
 */
export function slackPayload(notice: Notice, docsUrl?: string): SlackPayload {
  const { alert } = notice;
  const line = `${EMOJI[notice.kind]} [mailroute] ${headline(notice)}`;
  const runbook = runbookOf(alert.kind, docsUrl);
  const facts = [
    slackText(`started ${new Date(alert.startedAt).toISOString()}`),
    ...(alert.resolvedAt === undefined ? [] : [slackText(`resolved ${new Date(alert.resolvedAt).toISOString()}`)]),
    runbook.url === undefined ? slackText(`runbook: ${runbook.path}`) : `runbook: <${runbook.url}|${slackText(runbook.path)}>`,
    slackText(`incident ${alert.id}`),
  ];
  const link =
    notice.link === undefined
      ? []
      : [{ type: 'context', elements: [{ type: 'mrkdwn', text: `<${slackUrl(notice.link)}|Open in the mailroute console>` }] }];
  return {
    text: `${line}\n${alert.summary}${notice.link === undefined ? '' : `\n${notice.link}`}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackText(line)}*\n${slackText(alert.summary)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: facts.join(' · ') }] },
      ...link,
    ],
  };
}

/** Inside `<url|label>`, Slack needs &, < and > escaped and | would end the address. */
function slackUrl(url: string): string {
  return slackText(url).replace(/\|/g, '%7C');
}

/** Slack reads &, < and > as markup. */
function slackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackChannel(settings: { readonly url: string; readonly docsUrl?: string | undefined } & PostOptions) {
  return { name: 'slack', send: (notice: Notice) => postJson(settings.url, slackPayload(notice, settings.docsUrl), settings) };
}
