import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SesEmulator, startSesEmulator } from './emulator.js';
import { type SesFaultProxy, startSesFaultProxy } from './fault-proxy.js';
import { sesFaults } from './faults.js';
import { sendRawEmailParams, sesQuery } from './query.js';

const MIME = 'From: sender@example.com\r\nTo: to@example.com\r\nSubject: Proxy\r\n\r\nBody\r\n';

describe('startSesFaultProxy', () => {
  let emulator: SesEmulator;
  let proxy: SesFaultProxy;

  beforeAll(async () => {
    emulator = await startSesEmulator();
    proxy = await startSesFaultProxy({ target: emulator.url });
  });
  afterAll(async () => {
    await proxy.close();
    await emulator.close();
  });
  beforeEach(async () => {
    proxy.reset();
    await emulator.clear();
  });

  it('passes requests through and records action and form parameters', async () => {
    const response = await sesQuery(proxy.url, sendRawEmailParams(MIME, { 'Destinations.member.1': 'to@example.com' }));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<SendRawEmailResponse');
    expect(await emulator.messages()).toHaveLength(1);
    expect(proxy.requests).toHaveLength(1);
    const [entry] = proxy.requestsFor('SendRawEmail');
    expect(entry).toMatchObject({ method: 'POST', path: '/', action: 'SendRawEmail' });
    expect(entry?.fault).toBeUndefined();
    expect(entry?.params['Destinations.member.1']).toBe('to@example.com');
    expect(Buffer.from(entry?.params['RawMessage.Data'] ?? '', 'base64').toString()).toBe(MIME);
  });

  it('answers with SES XML errors until the fault is cleared', async () => {
    proxy.setFault('throttling');
    const response = await sesQuery(proxy.url, sendRawEmailParams(MIME));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/xml');
    const requestId = response.headers.get('x-amzn-requestid');
    expect(await response.text()).toBe(
      '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code>' +
        `<Message>Maximum sending rate exceeded.</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    expect((await sesQuery(proxy.url, sendRawEmailParams(MIME))).status).toBe(400);
    proxy.setFault(null);
    expect((await sesQuery(proxy.url, sendRawEmailParams(MIME))).status).toBe(200);
    expect(proxy.requests.map((entry) => entry.fault)).toEqual(['throttling', 'throttling', undefined]);
    expect(await emulator.messages()).toHaveLength(1);
  });

  it('failNext applies a fault to the next n requests only', async () => {
    proxy.failNext(2, 'internalFailure');
    const statuses = [];
    for (let index = 0; index < 3; index++) statuses.push((await sesQuery(proxy.url, sendRawEmailParams(MIME))).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('answers a gateway 504 with an HTML body, not SES XML', async () => {
    proxy.setFault(sesFaults.gatewayTimeout);
    const response = await sesQuery(proxy.url, sendRawEmailParams(MIME));
    expect(response.status).toBe(504);
    expect(await response.text()).toContain('504 Gateway Time-out');
  });

  it('hangs without answering', async () => {
    proxy.setFault('hang');
    await expect(sesQuery(proxy.url, sendRawEmailParams(MIME), { timeoutMs: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(proxy.requests).toHaveLength(1);
    expect(await emulator.messages()).toEqual([]);
  });

  it('reset drops the connection without forwarding; acceptThenReset forwards first', async () => {
    proxy.setFault('reset');
    await expect(sesQuery(proxy.url, sendRawEmailParams(MIME))).rejects.toThrow('fetch failed');
    expect(await emulator.messages()).toEqual([]);

    proxy.setFault('acceptThenReset');
    await expect(sesQuery(proxy.url, sendRawEmailParams(MIME))).rejects.toThrow('fetch failed');
    expect(await emulator.messages()).toHaveLength(1);
  });

  it('adds latency', async () => {
    proxy.setLatency(150);
    const started = performance.now();
    expect((await sesQuery(proxy.url, sendRawEmailParams(MIME))).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });
});
