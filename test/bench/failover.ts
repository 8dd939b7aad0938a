import { createRouter, MESSAGE_ID_HEADER, type Message, type RouteResult } from '@mailroute/core';
import { sampleMessage } from '@mailroute/core/testing';
import { createSendGridProvider } from '@mailroute/providers/sendgrid';
import { createSmtpProvider } from '@mailroute/providers/smtp';
import { type SendGridFault, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { startSmtpStandin } from '@mailroute/standins/smtp';
import { fmt, printTable } from './measure.js';

/**
 * Failover under load: 200 sends/s through SendGrid (primary, real SDK against the v3
 * stand-in) with SMTP behind it, default breaker settings. After a healthy warm-up the
 * primary starts failing (503s, or hanging); we measure how long until its breaker opens,
 * how many sends still reached it, and that every message was delivered by someone.
 * Goals: opens within 1.5 s on 503s and within 3.5 s on a hang; zero sends lost (the router said
 * sent but no stand-in has it, or it said nothing). A call the router hands back as `retry` is
 * counted apart: mailroute's dispatcher sends it again later; this benchmark has no queue.
 */

const RATE_PER_SECOND = 200;
const WARM_UP_MS = 3_000;
const FAULT_MS = 4_000;

interface ScenarioResult {
  readonly scenario: string;
  readonly openedAfterMs: number | undefined;
  readonly sendsToFailingPrimary: number;
  readonly total: number;
  readonly deliveredBySendGrid: number;
  readonly deliveredBySmtp: number;
  readonly lost: number;
  readonly handedBack: number;
  readonly duplicates: number;
}

async function scenario(name: string, fault: SendGridFault): Promise<ScenarioResult> {
  const sendgrid = await startSendGridStandIn({ apiKey: 'SG.bench.failover', logLimit: 1000 });
  const smtp = await startSmtpStandin();
  const router = createRouter({
    providers: [
      { provider: createSendGridProvider({ type: 'sendgrid', name: 'sendgrid', apiKey: 'SG.bench.failover', baseUrl: sendgrid.url }) },
      { provider: createSmtpProvider({ type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port, maxConnections: 10 }) },
    ],
  });
  let faultAt = 0;
  let openedAt: number | undefined;
  router.on('breaker', (event) => {
    if (event.provider === 'sendgrid' && event.state === 'open' && openedAt === undefined && faultAt > 0) openedAt = event.at;
  });
  let primaryCallsAfterFault = 0;
  router.on('attempt', (attempt) => {
    if (attempt.provider === 'sendgrid' && faultAt > 0 && attempt.startedAt >= faultAt && attempt.error?.code !== 'PROVIDER_BUSY') {
      primaryCallsAfterFault += 1;
    }
  });

  const sent: Message[] = [];
  const results: Promise<RouteResult>[] = [];
  const started = Date.now();
  const interval = 1000 / RATE_PER_SECOND;
  for (let i = 0; Date.now() - started < WARM_UP_MS + FAULT_MS; i += 1) {
    const due = started + i * interval;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (faultAt === 0 && Date.now() - started >= WARM_UP_MS) {
      sendgrid.setFault(fault);
      faultAt = Date.now();
    }
    const message = sampleMessage();
    sent.push(message);
    results.push(router.send(message));
  }
  const outcomes = await Promise.all(results);
  await router.close();

  const bySendGrid = sendgrid.accepted.length;
  const smtpIds = smtp.delivered().map((mail) => String(mail.parsed.headers.get(MESSAGE_ID_HEADER.toLowerCase()) ?? ''));
  const received = new Map<string, number>();
  for (const id of [...sendgrid.accepted.map((entry) => String(entry.body.custom_args?.mailroute_id ?? '')), ...smtpIds]) {
    received.set(id, (received.get(id) ?? 0) + 1);
  }
  const handedBackIds = new Set(outcomes.flatMap((outcome, index) => (outcome.status === 'sent' ? [] : [sent[index]?.id])));
  const lost = sent.filter((message) => !received.has(message.id) && !handedBackIds.has(message.id)).length;
  const duplicates = [...received.values()].filter((count) => count > 1).length;
  const notSent = outcomes.filter((outcome) => outcome.status !== 'sent').length;
  if (notSent > 0) {
    const reasons = new Map<string, number>();
    for (const outcome of outcomes) {
      if (outcome.status === 'sent') continue;
      const last = outcome.attempts.at(-1)?.error?.code ?? outcome.skipped.at(-1)?.error.code ?? 'unknown';
      const key = `${outcome.status} after ${last}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    console.log(`${name}: ${notSent} sends did not end as sent (${[...reasons].map(([key, n]) => `${n} ${key}`).join(', ')})`);
  }
  await sendgrid.close();
  await smtp.close();
  return {
    scenario: name,
    openedAfterMs: openedAt === undefined ? undefined : openedAt - faultAt,
    sendsToFailingPrimary: primaryCallsAfterFault,
    total: sent.length,
    deliveredBySendGrid: bySendGrid,
    deliveredBySmtp: smtpIds.length,
    lost,
    handedBack: handedBackIds.size,
    duplicates,
  };
}

export async function runFailover(): Promise<ScenarioResult[]> {
  const results = [
    await scenario('primary answers 503', { kind: 'status', status: 503 }),
    await scenario('primary hangs', { kind: 'hang' }),
  ];
  printTable(
    `Failover at ${RATE_PER_SECOND} sends/s (SendGrid -> SMTP, default breaker settings)`,
    results.map((result) => ({
      scenario: result.scenario,
      'breaker open after (s)': result.openedAfterMs === undefined ? 'never' : fmt(result.openedAfterMs / 1000, 3),
      'sends that hit the failing primary': result.sendsToFailingPrimary,
      total: result.total,
      'delivered by SendGrid': result.deliveredBySendGrid,
      'delivered by SMTP': result.deliveredBySmtp,
      lost: result.lost,
      'handed back (retry)': result.handedBack,
      'delivered twice': result.duplicates,
    })),
  );
  console.log('goals: open within 1.5 s on 503s and 3.5 s on a hang; lost = 0');
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await runFailover();
