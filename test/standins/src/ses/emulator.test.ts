import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SesEmulator, startSesEmulator } from './emulator.js';
import { sendRawEmailParams, sesQuery } from './query.js';

/** A fresh connection: fetch's pool may still hold sockets the stop just closed. */
function connectTo(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

const MIME = 'From: Sender <sender@example.com>\r\nTo: to@example.com\r\nSubject: Hello\r\nX-Custom: yes\r\n\r\nBody text\r\n';

describe('startSesEmulator', () => {
  let emulator: SesEmulator;

  beforeAll(async () => {
    emulator = await startSesEmulator({ quota: { max24HourSend: 200, maxSendRate: 2 } });
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(async () => {
    await emulator.clear();
  });

  it('listens on 127.0.0.1 and keeps the raw MIME, Destinations and tags the emulator drops', async () => {
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    const response = await sesQuery(
      emulator.url,
      sendRawEmailParams(MIME, {
        'Destinations.member.1': 'to@example.com',
        'Destinations.member.2': 'hidden@example.com',
        'Tags.member.1.Name': 'mailroute_id',
        'Tags.member.1.Value': 'msg-1',
        ConfigurationSetName: 'transactional',
      }),
    );
    expect(response.status).toBe(200);
    const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(await response.text())?.[1];
    expect(messageId).toMatch(/^ses-\d+$/);

    const [mail, ...others] = await emulator.messages();
    expect(others).toEqual([]);
    expect(mail?.messageId).toBe(messageId);
    expect(mail?.action).toBe('SendRawEmail');
    expect(mail?.raw?.toString('utf8')).toBe(MIME);
    expect(mail?.destinations).toEqual(['to@example.com', 'hidden@example.com']);
    expect(mail?.tags).toEqual({ mailroute_id: 'msg-1' });
    expect(mail?.configurationSetName).toBe('transactional');
    expect(mail?.subject).toBe('Hello');
    expect(mail?.destination.to).toEqual(['to@example.com']);
  });

  it('answers GetSendQuota like SES and counts the mail sent', async () => {
    await sesQuery(emulator.url, sendRawEmailParams(MIME));
    const response = await sesQuery(emulator.url, { Action: 'GetSendQuota' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const xml = await response.text();
    expect(xml).toContain('<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">');
    expect(xml).toContain('<Max24HourSend>200.0</Max24HourSend>');
    expect(xml).toContain('<MaxSendRate>2.0</MaxSendRate>');
    expect(xml).toContain('<SentLast24Hours>1.0</SentLast24Hours>');
  });

  it('refuses unsigned calls and unknown actions at once instead of hanging', async () => {
    const unsigned = await sesQuery(emulator.url, { Action: 'GetSendQuota' }, { authorization: null });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');

    const unknown = await sesQuery(emulator.url, { Action: 'ListIdentities' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('<Code>InvalidAction</Code>');
    expect(await emulator.messages()).toEqual([]);
  });

  it('stops, refuses connections, and comes back on the same port with its mail', async () => {
    await sesQuery(emulator.url, sendRawEmailParams(MIME));
    await emulator.stop();
    await expect(connectTo(emulator.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await emulator.start();
    expect((await sesQuery(emulator.url, sendRawEmailParams(MIME))).status).toBe(200);
    expect(await emulator.messages()).toHaveLength(2);
  });

  it('clear() empties the store', async () => {
    await sesQuery(emulator.url, sendRawEmailParams(MIME));
    expect(await emulator.messages()).toHaveLength(1);
    await emulator.clear();
    expect(await emulator.messages()).toEqual([]);
  });
});
