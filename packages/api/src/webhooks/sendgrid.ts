import {
  parseSendgridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendgridSignature,
  type WebhookVerdict,
} from '@mailroute/providers/sendgrid';
import type { ApiDependencies } from '../context.js';
import { sendgridVerificationKey } from './sendgrid-keys.js';
import { header, parseJson, refuse, type WebhookRequest, type WebhookResponse } from './types.js';

export interface SendgridWebhookRequest extends WebhookRequest {
  /** The provider entry named in the path; without it, every SendGrid entry's key is tried. */
  readonly provider?: string | undefined;
}

/**
 * SendGrid's signed Event Webhook: a JSON array of events, signed over timestamp + raw body.
 * The signature is checked before the body is even parsed; nothing is stored unless the
 * whole batch is signed, well-formed and within the event cap (one transaction, all or none).
 */
export async function handleSendgridWebhook(deps: ApiDependencies, request: SendgridWebhookRequest): Promise<WebhookResponse> {
  const webhooks = deps.webhooks;
  if (!webhooks) return refuse(404, 'NOT_FOUND', 'webhooks are not served by this process');
  const settings = webhooks.settings();
  const entries = request.provider === undefined ? settings.sendgrid : settings.sendgrid.filter((entry) => entry.name === request.provider);
  if (request.provider !== undefined && entries.length === 0) {
    return refuse(404, 'NOT_FOUND', `no SendGrid provider named "${request.provider}" is configured`);
  }
  const keyed = entries.flatMap((entry) => (entry.publicKey === undefined ? [] : [{ name: entry.name, publicKey: entry.publicKey }]));
  if (keyed.length === 0) {
    return refuse(403, 'FORBIDDEN', 'no SendGrid provider entry has a webhookPublicKey: only signed Event Webhooks are accepted');
  }

  const signed = {
    rawBody: request.rawBody,
    signature: header(request, SENDGRID_SIGNATURE_HEADER),
    timestamp: header(request, SENDGRID_TIMESTAMP_HEADER),
  };
  const options = { toleranceSeconds: settings.toleranceSeconds, ...(webhooks.now ? { now: webhooks.now } : {}) };
  let provider: string | undefined;
  const refusals: Exclude<WebhookVerdict, { ok: true }>[] = [];
  for (const entry of keyed) {
    const verdict = verifySendgridSignature(signed, { ...options, publicKey: sendgridVerificationKey(entry.publicKey) });
    if (verdict.ok) {
      provider = entry.name;
      break;
    }
    refusals.push(verdict);
  }
  if (provider === undefined) {
    // A stale timestamp is stale for every key; otherwise no key matched the signature.
    const refusal = refusals.find((verdict) => verdict.status === 403) ?? refusals[0];
    const status = refusal?.status ?? 401;
    return refuse(status, status === 403 ? 'FORBIDDEN' : 'UNAUTHENTICATED', refusal?.reason ?? 'signature not valid');
  }

  const json = parseJson(request.rawBody);
  if (!json.ok) return refuse(400, 'INVALID_JSON', 'the body is not JSON');
  if (Array.isArray(json.value) && json.value.length > settings.maxEventsPerRequest) {
    return refuse(
      400,
      'INVALID_INPUT',
      `${json.value.length} events in one request; at most ${settings.maxEventsPerRequest} (webhooks.maxEventsPerRequest)`,
    );
  }
  const parsed = parseSendgridEvents(provider, json.value);
  if (!parsed.ok) return refuse(400, 'INVALID_INPUT', parsed.reason);
  const report = await deps.store.ingestEvents(parsed.events);
  return { status: 200, body: report };
}
