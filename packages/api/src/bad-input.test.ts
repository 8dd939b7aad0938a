import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, messageCount } from './test/fixtures.js';
import { startApiServer, startTestApi, type TestApi } from './test/server.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ maxBodySize: 16 * 1024 * 1024 });
});
afterAll(() => api.close());

const send = (input: unknown) => apiClient(api.url, api.keys.hotelAdmin.key, { batch: false }).mail.send.mutate(input as never);
const recipients = (count: number) => Array.from({ length: count }, (_, index) => `r${index}@example.org`);
/** Base64 of `bytes` zero bytes. */
const base64Of = (bytes: number) => Buffer.alloc(bytes).toString('base64');

const cases: [name: string, input: unknown, code: string, path: string, message?: RegExp][] = [
  ['sender without @', mail({ from: 'desk.hotel.example' }), 'INVALID_MESSAGE', 'from.email', /valid e-mail/],
  ['recipient with two @', mail({ to: ['a@b@example.org'] }), 'INVALID_MESSAGE', 'to.0.email', /valid e-mail/],
  ['named address with a bad address', mail({ cc: ['Guest <guest at example.org>'] }), 'INVALID_MESSAGE', 'cc.0.email'],
  ['CR/LF in a display name', mail({ to: [{ email: 'a@example.org', name: 'A\r\nBcc: x@evil.example' }] }), 'INVALID_MESSAGE', 'to.0.name'],
  ['CR/LF in the subject', mail({ subject: 'Hi\r\nBcc: victim@example.org' }), 'INVALID_MESSAGE', 'subject', /line breaks/],
  [
    'LF in a header value',
    mail({ headers: { 'X-Booking': '42\nBcc: victim@example.org' } }),
    'INVALID_MESSAGE',
    'headers.X-Booking',
    /line breaks/,
  ],
  ['colon in a header name', mail({ headers: { 'X-A:b': '1' } }), 'INVALID_MESSAGE', 'headers.X-A:b'],
  ['a reserved header', mail({ headers: { Bcc: 'victim@example.org' } }), 'INVALID_MESSAGE', 'headers.Bcc', /cannot be overridden/],
  ['no body', mail({ text: undefined }), 'INVALID_MESSAGE', 'text', /text or html is required/],
  ['an empty body', mail({ text: '', html: '' }), 'INVALID_MESSAGE', 'text', /text or html is required/],
  ['an empty subject', mail({ subject: '' }), 'INVALID_MESSAGE', 'subject'],
  ['no recipient', mail({ to: [] }), 'INVALID_MESSAGE', 'to', /at least one/],
  [
    '1,001 recipients',
    mail({ to: recipients(600), bcc: recipients(401) }),
    'INVALID_MESSAGE',
    'to',
    /at most 1000 recipients .* \(got 1001\)/,
  ],
  [
    'an attachment over 10 MB',
    mail({ attachments: [{ filename: 'big.pdf', content: base64Of(10 * 1024 * 1024 + 1) }] }),
    'INVALID_MESSAGE',
    'attachments',
    /exceeds 10485760 bytes/,
  ],
  [
    'an attachment that is not base64',
    mail({ attachments: [{ filename: 'a.pdf', content: '!!not base64!!' }] }),
    'INVALID_MESSAGE',
    'attachments.0.content',
  ],
  [
    'a path in an attachment name',
    mail({ attachments: [{ filename: '../etc/passwd', content: 'AAAA' }] }),
    'INVALID_MESSAGE',
    'attachments.0.filename',
  ],
  ['a number as subject', mail({ subject: 42 }), 'INVALID_MESSAGE', 'subject'],
  ['a string as the recipient list', mail({ to: 'guest@example.org' }), 'INVALID_MESSAGE', 'to'],
  ['a number in tags', mail({ tags: [7] }), 'INVALID_MESSAGE', 'tags.0'],
  ['an object as text', mail({ text: { html: true } }), 'INVALID_MESSAGE', 'text'],
  ['a date that is not one', mail({ sendAt: 'next tuesday' }), 'INVALID_MESSAGE', 'sendAt'],
  ['an unknown field', mail({ priority: 'high' }), 'INVALID_MESSAGE', 'priority', /unknown field/],
  ['an unknown nested field', mail({ to: [{ email: 'a@example.org', phone: '1' }] }), 'INVALID_MESSAGE', 'to.0.phone', /unknown field/],
  // PostgreSQL cannot store these; they must be refused at their field, on every database.
  ['a NUL character in the body', mail({ text: 'See you\u0000 soon' }), 'INVALID_INPUT', 'text', /NUL/],
  [
    'a lone surrogate in metadata',
    mail({ metadata: { note: 'broken \ud800 text' } }),
    'INVALID_INPUT',
    'metadata.note',
    /well-formed Unicode/,
  ],
  ['a NUL character in a field name', mail({ metadata: { 'a\u0000b': 'x' } }), 'INVALID_INPUT', 'metadata.a?b', /field name/],
  [
    'input nested 40 levels deep',
    mail({ metadata: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }),
    'INVALID_INPUT',
    `metadata${'.a'.repeat(31)}`,
    /nested deeper than 32/,
  ],
  ['null instead of a message', null, 'INVALID_MESSAGE', '(message)'],
  ['an array instead of a message', [mail()], 'INVALID_MESSAGE', '(message)'],
  ['a string instead of a message', 'hello', 'INVALID_MESSAGE', '(message)'],
];

test.each(cases)('mail.send refuses %s with a typed 400 at the field', async (_name, input, code, path, message) => {
  const before = await messageCount(api.store);
  const refused = await failure(send(input));
  expect(refused).toMatchObject({ code, httpStatus: 400 });
  expect(refused.issues.map((issue) => issue.path)).toContain(path);
  if (message) expect(refused.issues.find((issue) => issue.path === path)?.message).toMatch(message);
  expect(refused.message).toContain(path);
  expect(await messageCount(api.store)).toBe(before);
});

test('other procedures refuse wrong types and unknown fields with the field path', async () => {
  const admin = apiClient(api.url, api.keys.hotelAdmin.key);
  const checks: [() => Promise<unknown>, string][] = [
    [() => admin.mail.get.query({ id: 5 as unknown as string }), 'id'],
    [() => admin.mail.get.query({ id: 'x', extra: 1 } as never), 'extra'],
    [() => admin.mail.list.query({ status: ['lost' as 'sent'] }), 'status'],
    [() => admin.mail.list.query({ status: 'lost' as 'sent' }), 'status'],
    [() => admin.mail.list.query({ limit: 0 }), 'limit'],
    [() => admin.mail.list.query({ createdFrom: 'yesterday' }), 'createdFrom'],
    [() => admin.mail.list.query({ cursor: 'not-a-cursor' }), ''],
    [() => admin.mail.cancel.mutate({ id: '' }), 'id'],
    [() => admin.mail.sendBatch.mutate({ messages: 'all' as never }), 'messages'],
    [() => admin.mail.sendBatch.mutate({ messages: [] }), 'messages'],
    [() => admin.mail.sendBatch.mutate({ messages: [mail()], dryRun: true } as never), 'dryRun'],
    [() => admin.mail.retry.mutate({ filter: { colour: 'red' } } as never), 'filter.colour'],
    [() => admin.keys.create.mutate({ name: 'x', scopes: 'admin' as never }), 'scopes'],
    [() => admin.mail.list.query({ tag: 'booking\u0000' }), 'tag'],
    [() => admin.suppressions.add.mutate({ address: 'a@example.org', reason: '\udc00' }), 'reason'],
  ];
  for (const [call, path] of checks) {
    const refused = await failure(call());
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
    if (path) expect(refused.issues.map((issue) => issue.path)).toContain(path);
    else expect(refused.message).toMatch(/invalid cursor/);
  }
  expect(await messageCount(api.store)).toBe(0);
});

async function raw(path: string, body: string | Buffer, contentType = 'application/json') {
  const response = await fetch(`${api.url}/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.keys.hotelAdmin.key}`, 'content-type': contentType },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as { error: { message: string; data: { code: string; httpStatus: number } } },
  };
}

test('malformed JSON is a 400 INVALID_JSON, never a 500', async () => {
  for (const body of ['{"from": ', '{from: "a@example.org"}', "{'a': 1}", '\u0000', '[1,]']) {
    const answer = await raw('mail.send', body);
    expect({ body, status: answer.status, code: answer.body.error.data.code }).toEqual({ body, status: 400, code: 'INVALID_JSON' });
  }
  const batched = await raw('mail.send,mail.send?batch=1', '{"0": {"from": ');
  expect(batched.status).toBe(400);
  expect(await messageCount(api.store)).toBe(0);
});

test('a body over the limit is a 413 PAYLOAD_TOO_LARGE and nothing is stored', async () => {
  const huge = JSON.stringify(mail({ text: 'x'.repeat(17 * 1024 * 1024) }));
  const answer = await raw('mail.send', huge);
  expect(answer.status).toBe(413);
  expect(answer.body.error.data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
  expect(await messageCount(api.store)).toBe(0);
});

test('an unexpected failure is a 500 INTERNAL that shows nothing of its cause', async () => {
  const broken = {
    ...api.store,
    enqueue: () => Promise.reject(new Error('SQLITE_CORRUPT: database disk image is malformed at /var/lib/secret/mailroute.db')),
  };
  const logged: unknown[] = [];
  const server = await startApiServer({ store: broken, providerNames: () => [] }, { onError: (error) => logged.push(error.cause) });
  try {
    const refused = await failure(apiClient(server.url, api.keys.hotelSend.key).mail.send.mutate(mail()));
    expect(refused).toEqual({ code: 'INTERNAL', httpStatus: 500, message: 'internal error; the server log has the detail', issues: [] });
    const response = await fetch(`${server.url}/mail.send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.keys.hotelSend.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(mail()),
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toMatch(/SQLITE|secret|stack|at \//);
    // The host's log still gets the real cause.
    expect(logged).toHaveLength(2);
    expect(String((logged[0] as Error).message)).toMatch(/^SQLITE_CORRUPT/);
  } finally {
    await server.close();
  }
});
