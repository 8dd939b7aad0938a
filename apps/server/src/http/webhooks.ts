import { type ApiDependencies, handleSendgridWebhook, handleSesWebhook, type WebhookResponse } from '@mailroute/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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
    const send = (request: FastifyRequest, reply: FastifyReply, response: WebhookResponse) => {
      // A provider that keeps getting refused loses events: the reason is worth a line.
      if ('code' in response.body) {
        const level = response.status === 401 || response.status === 403 ? 'warn' : 'info';
        request.log[level](
          { path: request.url, status: response.status, code: response.body.code, reason: response.body.message },
          'webhook refused',
        );
      }
      return reply.code(response.status).send(response.body);
    };
    // A POST without a body never reaches a content-type parser.
    const bodyOf = (request: FastifyRequest<{ Body: Buffer | undefined }>) => request.body ?? Buffer.alloc(0);

    scope.post<{ Body: Buffer | undefined }>('/webhooks/sendgrid', options, async (request, reply) =>
      send(request, reply, await handleSendgridWebhook(api, { rawBody: bodyOf(request), headers: request.headers })),
    );
    scope.post<{ Body: Buffer | undefined; Params: { provider: string } }>(
      '/webhooks/sendgrid/:provider',
      options,
      async (request, reply) =>
        send(
          request,
          reply,
          await handleSendgridWebhook(api, { provider: request.params.provider, rawBody: bodyOf(request), headers: request.headers }),
        ),
    );
    scope.post<{ Body: Buffer | undefined }>('/webhooks/ses', options, async (request, reply) =>
      send(request, reply, await handleSesWebhook(api, { rawBody: bodyOf(request), headers: request.headers })),
    );
  });
}
