import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpStandin, startSmtpStandin } from './index.js';

/** A bare SMTP client over a socket, so each reply can be checked exactly. */
class RawClient {
  private buffer = '';
  private readonly waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private readonly lines: string[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let index = this.buffer.indexOf('\r\n');
      while (index >= 0) {
        const line = this.buffer.slice(0, index);
        this.buffer = this.buffer.slice(index + 2);
        // Only the last line of a multi-line reply (`250 ` rather than `250-`) completes it.
        if (!/^\d{3}-/.test(line)) this.push(line);
        index = this.buffer.indexOf('\r\n');
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('connection closed'));
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  private push(line: string) {
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(line);
    else this.lines.push(line);
  }

  reply(timeoutMs = 2_000): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiting.push({
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  async command(line: string, timeoutMs?: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  async sendMessage(from: string, to: readonly string[], body: string, timeoutMs?: number): Promise<string> {
    expect(await this.command('EHLO client.test')).toMatch(/^250 /);
    expect(await this.command(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
    for (const rcpt of to) expect(await this.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
    expect(await this.command('DATA')).toMatch(/^354 /);
    return this.command(`${body.replace(/\n/g, '\r\n')}\r\n.`, timeoutMs);
  }

  async closedWithin(ms: number): Promise<boolean> {
    if (this.closed) return true;
    await Promise.race([once(this.socket, 'close'), new Promise((resolve) => setTimeout(resolve, ms))]);
    return this.closed;
  }

  end() {
    this.socket.destroy();
  }
}

const BODY = 'From: a@example.com\nTo: b@example.org\nSubject: =?UTF-8?B?5LqI57SE56K66KqN?=\n\nHello';

describe('smtp stand-in', () => {
  let standin: SmtpStandin;
  const clients: RawClient[] = [];
  const open = async () => {
    const client = await RawClient.open(standin.port);
    clients.push(client);
    expect(await client.reply()).toMatch(/^220 /);
    return client;
  };

  beforeAll(async () => {
    standin = await startSmtpStandin();
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.end();
    standin.reset();
  });
  afterAll(async () => {
    await standin.close();
  });

  it('records the parsed message, its raw source and the envelope', async () => {
    const client = await open();
    const reply = await client.sendMessage('a@example.com', ['b@example.org', 'hidden@example.net'], BODY);
    expect(reply).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-F]{10}$/);
    const [message] = await standin.waitForMessages(1);
    expect(message?.envelope).toEqual({ mailFrom: 'a@example.com', rcptTo: ['b@example.org', 'hidden@example.net'] });
    expect(message?.parsed.subject).toBe('予約確認');
    expect(message?.parsed.text?.trim()).toBe('Hello');
    expect(message?.raw.toString()).toContain('Subject: =?UTF-8?B?5LqI57SE56K66KqN?=');
    expect(message?.outcome).toBe('accepted');
    expect(reply).toBe(message?.reply);
    expect(standin.url).toBe(`smtp://127.0.0.1:${standin.port}`);
    expect(standin.connectionCount).toBe(1);
  });

  it('refuses listed recipients with 550 5.1.1 and stage-wide faults with the chosen reply', async () => {
    standin.faults.rejectRecipients = ['Nobody@Example.org'];
    const client = await open();
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<a@example.com>');
    expect(await client.command('RCPT TO:<nobody@example.org>')).toMatch(/^550 5\.1\.1 /);
    expect(await client.command('RCPT TO:<b@example.org>')).toMatch(/^250 /);

    standin.faults.refuse.rcpt = { code: 452, message: '4.5.3 Too many recipients' };
    expect(await client.command('RCPT TO:<c@example.org>')).toBe('452 4.5.3 Too many recipients');
    standin.faults.refuse.rcpt = undefined;

    standin.faults.refuse.data = { code: 554, message: '5.7.1 Message rejected as spam' };
    expect(await client.command('DATA')).toMatch(/^354 /);
    expect(await client.command(`${BODY.replace(/\n/g, '\r\n')}\r\n.`)).toBe('554 5.7.1 Message rejected as spam');
    expect(standin.messages.map((m) => m.outcome)).toEqual(['rejected']);
    expect(standin.delivered()).toEqual([]);
  });

  it('failNext applies to the next transactions only, then the server behaves again', async () => {
    standin.failNext(2, { kind: 'reply', stage: 'data', code: 451, message: '4.7.0 Rate limit exceeded, try again later' });
    const client = await open();
    expect(await client.sendMessage('a@example.com', ['b@example.org'], BODY)).toBe('451 4.7.0 Rate limit exceeded, try again later');
    expect(await client.sendMessage('a@example.com', ['b@example.org'], BODY)).toMatch(/^451 /);
    expect(await client.sendMessage('a@example.com', ['b@example.org'], BODY)).toMatch(/^250 /);

    standin.failNext(1, { kind: 'reply', stage: 'connect', code: 421, message: '4.3.2 Too many connections' });
    const refused = await RawClient.open(standin.port);
    clients.push(refused);
    expect(await refused.reply()).toBe('421 4.3.2 Too many connections');
    expect(await refused.closedWithin(1_000)).toBe(true);
  });

  it('hang takes the data and never answers; dropAfterData keeps the message and closes the connection', async () => {
    standin.faults.hang = true;
    const hung = await open();
    await expect(hung.sendMessage('a@example.com', ['b@example.org'], BODY, 300)).rejects.toThrow('no reply');
    expect(standin.messages.map((m) => m.outcome)).toEqual(['hung']);

    standin.faults.hang = false;
    standin.faults.dropAfterData = true;
    const dropped = await open();
    await expect(dropped.sendMessage('a@example.com', ['b@example.org'], BODY)).rejects.toThrow('connection closed');
    expect(standin.delivered().map((m) => m.outcome)).toEqual(['hung', 'dropped']);
  });

  it('delays the MAIL FROM reply by envelopeLatencyMs', async () => {
    standin.faults.envelopeLatencyMs = 150;
    const client = await open();
    await client.command('EHLO client.test');
    const started = Date.now();
    expect(await client.command('MAIL FROM:<a@example.com>')).toMatch(/^250 /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('closes with 421 to open sessions and restarts on the same port, keeping what it received', async () => {
    const client = await open();
    await client.sendMessage('a@example.com', ['b@example.org'], BODY);
    const port = standin.port;
    const closing = standin.close();
    expect(await client.reply()).toBe('421 4.3.2 Service shutting down');
    await closing;
    expect(standin.running).toBe(false);
    await expect(RawClient.open(port)).rejects.toThrow(/ECONNREFUSED/);

    await standin.restart();
    expect(standin.port).toBe(port);
    const again = await open();
    expect(await again.sendMessage('a@example.com', ['b@example.org'], BODY)).toMatch(/^250 /);
    expect(standin.messages).toHaveLength(2);
  });
});

describe('smtp stand-in shutdown and size limit', () => {
  it('a message still waiting for its reply when the server closes is not kept', async () => {
    const standin = await startSmtpStandin();
    const client = await RawClient.open(standin.port);
    try {
      expect(await client.reply()).toMatch(/^220 /);
      standin.faults.latencyMs = 300;
      const reply = client.sendMessage('a@example.com', ['b@example.org'], BODY);
      await expect.poll(() => standin.openConnections).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await standin.close();
      expect(await reply).toBe('421 4.3.2 Service shutting down');
      await expect.poll(() => standin.messages.map((m) => m.outcome)).toEqual(['rejected']);
      expect(standin.delivered()).toEqual([]);
    } finally {
      client.end();
      await standin.close();
    }
  });

  it('answers 552 to a message over maxSize', async () => {
    const standin = await startSmtpStandin({ maxSize: 200 });
    const client = await RawClient.open(standin.port);
    try {
      expect(await client.reply()).toMatch(/^220 /);
      expect(await client.sendMessage('a@example.com', ['b@example.org'], `${BODY}\n${'x'.repeat(500)}`)).toMatch(/^552 /);
      expect(standin.delivered()).toEqual([]);
    } finally {
      client.end();
      await standin.close();
    }
  });
});

describe('smtp stand-in with auth', () => {
  let standin: SmtpStandin;
  beforeAll(async () => {
    standin = await startSmtpStandin({ auth: { user: 'relay', pass: 'correct horse' } });
  });
  afterAll(async () => {
    await standin.close();
  });

  it('accepts the right password, answers 535 to a wrong one and 530 to mail without login', async () => {
    const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
    const client = await RawClient.open(standin.port);
    try {
      expect(await client.reply()).toMatch(/^220 /);
      expect(await client.command('EHLO client.test')).toMatch(/^250 /);
      expect(await client.command('MAIL FROM:<a@example.com>')).toMatch(/^530 /);
      expect(await client.command(`AUTH PLAIN ${plain('relay', 'wrong')}`)).toBe('535 5.7.8 Authentication credentials invalid');
      expect(await client.command(`AUTH PLAIN ${plain('relay', 'correct horse')}`)).toMatch(/^235 /);
      expect(await client.command('MAIL FROM:<a@example.com>')).toMatch(/^250 /);
    } finally {
      client.end();
    }
  });
});
