import { type ApiDependencies, handleSendgridWebhook, handleSesWebhook, type WebhookResponse } from '@mailroute/api';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Provider event webhooks. Signatures are over the exact bytes received, so the body stays a
 * Buffer (SendGrid posts application/json, SNS text/plain). They are authenticated by those
 * signatures, not by API keys, and a provider's burst must not count against a key's rate.
 */
export async function registerWebhookRoutes(app: FastifyInstance, api: ApiDependencies, bodyLimitBytes: number): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/json', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: bodyLimitBytes },
      (_request, body, done) => done(null, body),
    );
    const options = { bodyLimit: bodyLimitBytes, config: { rateLimit: false } } as const;
    const send = (reply: FastifyReply, response: WebhookResponse) => reply.code(response.status).send(response.body);

    scope.post<{ Body: Buffer }>('/webhooks/sendgrid', options, async (request, reply) =>
      send(reply, await handleSendgridWebhook(api, { rawBody: request.body, headers: request.headers })),
    );
    scope.post<{ Body: Buffer; Params: { provider: string } }>('/webhooks/sendgrid/:provider', options, async (request, reply) =>
      send(reply, await handleSendgridWebhook(api, { provider: request.params.provider, rawBody: request.body, headers: request.headers })),
    );
    scope.post<{ Body: Buffer }>('/webhooks/ses', options, async (request, reply) =>
      send(reply, await handleSesWebhook(api, { rawBody: request.body, headers: request.headers })),
    );
  });
}
