import { parseSesNotification, type SnsMessage, type SnsVerdict, verifySnsMessage } from '@mailroute/providers/ses';
import type { ApiDependencies } from '../context.js';
import {
  codeOfStatus,
  parseJson,
  refuse,
  type SubscriptionConfirmer,
  type WebhookLogger,
  type WebhookRequest,
  type WebhookResponse,
} from './types.js';

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const CONFIRM_TIMEOUT_MS = 10_000;

/** Only a genuine SNS endpoint over HTTPS is ever called back: a signed message cannot make us fetch elsewhere. */
export function isSnsSubscribeUrl(url: string | undefined): url is string {
  if (url === undefined) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.port === '' && SNS_HOST.test(parsed.hostname);
  } catch {
    return false;
  }
}

export const fetchSubscribeUrl: SubscriptionConfirmer = async (url) => {
  const response = await fetch(url, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS) });
  await response.body?.cancel();
  return response.status;
};

/** Runs after the answer has gone: SNS waits for nobody, and neither does the request. */
function confirmLater(confirm: SubscriptionConfirmer, message: SnsMessage, provider: string, logger: WebhookLogger | undefined): void {
  const fields = { provider, topicArn: message.TopicArn, messageId: message.MessageId };
  void confirm(message.SubscribeURL ?? '').then(
    (status) =>
      status >= 200 && status < 300
        ? logger?.info({ ...fields, status }, 'SNS subscription confirmed')
        : logger?.warn({ ...fields, status }, 'SNS subscription confirmation refused'),
    (error: unknown) => logger?.warn({ ...fields, err: error }, 'SNS subscription confirmation failed'),
  );
}

/**
 * SES events through Amazon SNS (posted as text/plain JSON). The SNS signature is checked
 * against a certificate from an SNS host, and only configured topics are accepted; the topic
 * names the SES provider entry the events belong to.
 */
export async function handleSesWebhook(deps: ApiDependencies, request: WebhookRequest): Promise<WebhookResponse> {
  const webhooks = deps.webhooks;
  if (!webhooks) return refuse(404, 'NOT_FOUND', 'webhooks are not served by this process');
  const settings = webhooks.settings();
  const json = parseJson(request.rawBody);
  if (!json.ok) return refuse(400, 'INVALID_JSON', 'the body is not JSON');
  const allowedTopicArns = settings.ses.flatMap((entry) => entry.topicArns);
  let verdict: SnsVerdict;
  try {
    verdict = await verifySnsMessage(json.value, { allowedTopicArns, certificateSource: webhooks.certificateSource });
  } catch (error) {
    // SNS drops a message answered with 4xx but retries a 5xx: an unreachable certificate host must not lose events.
    webhooks.logger?.warn({ err: error }, 'SNS signing certificate could not be fetched');
    return refuse(503, 'UNAVAILABLE', 'the SNS signing certificate could not be fetched; retry later');
  }
  if (!verdict.ok) return refuse(verdict.status, codeOfStatus(verdict.status), verdict.reason);
  const { message } = verdict;
  const provider = settings.ses.find((entry) => entry.topicArns.includes(message.TopicArn))?.name;
  if (provider === undefined) return refuse(403, 'FORBIDDEN', `topic ${message.TopicArn} is not configured`);

  switch (message.Type) {
    case 'SubscriptionConfirmation': {
      if (!isSnsSubscribeUrl(message.SubscribeURL)) {
        return refuse(400, 'INVALID_INPUT', 'SubscribeURL is not an https URL on an SNS host');
      }
      confirmLater(webhooks.confirmSubscription ?? fetchSubscribeUrl, message, provider, webhooks.logger);
      return { status: 200, body: { ok: true, detail: 'subscription confirmation started' } };
    }
    case 'UnsubscribeConfirmation':
      webhooks.logger?.info({ provider, topicArn: message.TopicArn }, 'SNS subscription ended');
      return { status: 200, body: { ok: true, detail: 'unsubscribe noted' } };
    case 'Notification': {
      const parsed = parseSesNotification(provider, message);
      if (!parsed.ok) return refuse(400, 'INVALID_INPUT', parsed.reason);
      return { status: 200, body: await deps.store.ingestEvents(parsed.events) };
    }
    default:
      return refuse(400, 'INVALID_INPUT', `unknown SNS message type ${message.Type}`);
  }
}
