import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import { Client } from '@sendgrid/client';
import type { ClientRequest } from '@sendgrid/client/src/request.js';
import type { ClientResponse } from '@sendgrid/client/src/response.js';
import { type MailDataRequired, MailService } from '@sendgrid/mail';
import type { SendGridMailBody } from './converter.js';

/** Whether the request of one call has been handed in full to the operating system. */
export interface WireState {
  written: boolean;
}

interface CallScope {
  readonly signal: AbortSignal;
  readonly wire: WireState;
}

/**
 * The SDK takes no per-request options: `MailService.send` builds the request and hands it
 * to `Client.request` synchronously, inside `scope.run`. The client reads this call's signal
 * and wire state from the scope, so concurrent sends on one client never mix them up.
 */
const scope = new AsyncLocalStorage<CallScope>();

type RequestFunction = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => http.ClientRequest;

/** Options axios understands that the SDK's request type does not declare. */
interface AxiosExtras {
  signal?: AbortSignal;
  transport?: { request: RequestFunction };
  proxy?: false;
  maxRedirects?: number;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

class ScopedClient extends Client {
  override createRequest(data: ClientRequest): ClientRequest {
    // MailService also passes the message's mail headers as HTTP headers. They belong in the
    // body only: as HTTP headers they leak, and one named e.g. Content-Length breaks the request.
    const request: ClientRequest & AxiosExtras = super.createRequest({ ...data, headers: {} });
    const call = scope.getStore();
    if (!call) return request;
    request.signal = call.signal;
    request.transport = { request: trackingRequest(call.wire) };
    return request;
  }
}

/** http(s).request that marks the wire state once the whole request has been written. */
function trackingRequest(wire: WireState): RequestFunction {
  return (options, callback) => {
    const request = (options.protocol === 'https:' ? https : http).request(options, callback);
    request.once('finish', () => {
      wire.written = true;
    });
    return request;
  };
}

export interface SendGridConnection {
  send(body: SendGridMailBody, signal: AbortSignal, wire: WireState): Promise<ClientResponse>;
  get(url: string, signal: AbortSignal, wire: WireState): Promise<[ClientResponse, unknown]>;
  close(): void;
}

/**
 * One provider's own SDK objects: several SendGrid accounts (a US and an EU one) can live in
 * one process, so the module singletons are never used. Nothing retries (neither the SDK nor
 * axios do) and nothing follows redirects or environment proxies.
 */
export function createSendGridConnection(apiKey: string, baseUrl: string): SendGridConnection {
  const httpAgent = new http.Agent({ keepAlive: true, timeout: 30_000 });
  const httpsAgent = new https.Agent({ keepAlive: true, timeout: 30_000 });
  const client = new ScopedClient();
  // setApiKey() resets the base URL to the global host, so the base URL comes after it.
  client.setApiKey(apiKey);
  const defaults: Partial<ClientRequest> & AxiosExtras = { baseUrl, proxy: false, maxRedirects: 0, httpAgent, httpsAgent };
  client.setDefaultRequest(defaults as ClientRequest);
  const mail = new MailService();
  mail.setClient(client);

  return {
    async send(body, signal, wire) {
      // The helper accepts SendGrid's own field names and converts them back on the way out.
      const data = { ...body } as unknown as MailDataRequired;
      const [response] = await scope.run({ signal, wire }, () => mail.send(data));
      return response;
    },
    get(url, signal, wire) {
      return scope.run({ signal, wire }, () => client.request({ method: 'GET', url }));
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
