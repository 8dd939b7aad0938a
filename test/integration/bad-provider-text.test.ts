import { createDispatcher, createRouter, type Dispatcher, type Router } from '@mailroute/core';
import { createSendGridProvider } from '@mailroute/providers/sendgrid';
import { type SendGridFault, type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore, type MailStore, migrateDatabase } from '@mailroute/store';
import { createPostgresDatabase, createSqliteFile, postgresAvailable } from '@mailroute/store/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * A provider answering with text the database refuses as it came (NUL, lone surrogates):
 * its attempts are recorded, cleaned, and mail keeps flowing around it. Before the text was
 * cleaned, PostgreSQL refused every batch holding such an attempt and the worker retried it
 * forever, keeping all its messages `sending`.
 */

/** JSON escapes for a NUL and a lone surrogate: JSON.parse turns them into the characters themselves. */
const BAD_BODY = '{"errors":[{"message":"bad \\u0000 thing \\ud800 here"}]}';
/** A lone surrogate as bytes on the wire (CESU-8), which Node reads as Latin-1; a NUL, which Node's parser refuses. */
const BAD_HEADERS: SendGridFault = {
  kind: 'raw',
  status: 500,
  body: BAD_BODY,
  headers: { 'X-Message-Id': 'id\u00ed\u00a0\u0080', 'X-Request-Id': 'req-\u00ed\u00a0\u0080' },
};
const NUL_HEADER: SendGridFault = { kind: 'raw', status: 500, body: BAD_BODY, headers: { 'X-Request-Id': 'req-\u0000-id' } };

const EMPTY = { cc: [], bcc: [], replyTo: [], attachments: [], headers: {}, tags: [], metadata: {} };

let primary: SendGridStandIn;
let backup: SendGridStandIn;

beforeAll(async () => {
  [primary, backup] = await Promise.all([startSendGridStandIn(), startSendGridStandIn()]);
});

afterAll(async () => {
  await Promise.all([primary?.close(), backup?.close()]);
});

const databases = [
  ['sqlite', async () => createSqliteFile()],
  ['postgres', createPostgresDatabase],
] as const;

for (const [dialect, create] of databases) {
  describe.skipIf(dialect === 'postgres' && !postgresAvailable)(`a provider answering with unstorable text [${dialect}]`, () => {
    let drop: () => Promise<void> = async () => {};
    let store: MailStore | undefined;
    let dispatcher: Dispatcher | undefined;
    let router: Router | undefined;
    const errors: unknown[] = [];

    beforeAll(async () => {
      const database = await create();
      drop = database.drop;
      await migrateDatabase({ url: database.url });
      store = await createStore({ url: database.url });
    }, 30_000);

    afterEach(async () => {
      await dispatcher?.stop({ graceMs: 2_000 });
      await router?.close();
    });

    afterAll(async () => {
      await store?.close();
      await drop();
    }, 30_000);

    it('records the bad answers cleaned; every message gets an outcome, none stays sending', async () => {
      if (!store) throw new Error('no store');
      primary.reset();
      backup.reset();
      // Three bad answers among good ones: those three fail over to the backup, the rest go through the primary.
      primary.failNext(2, BAD_HEADERS);
      primary.failNext(1, NUL_HEADER);
      const provider = (name: string, standIn: SendGridStandIn) =>
        createSendGridProvider({ type: 'sendgrid', name, apiKey: standIn.apiKey, baseUrl: standIn.url });
      const live = createRouter({
        providers: [{ provider: provider('primary', primary) }, { provider: provider('backup', backup) }],
        breaker: { volumeThreshold: 1_000 },
      });
      router = live;
      const ids: string[] = [];
      for (let index = 0; index < 20; index += 1) {
        const { id } = await store.enqueue({
          ...EMPTY,
          from: { email: 'desk@hotel.example' },
          to: [{ email: `guest${index}@example.org` }],
          subject: 'Booking',
          text: 'See you.',
        });
        ids.push(id);
      }
      dispatcher = createDispatcher({
        queue: store,
        router: () => live,
        owner: `bad-text-${dialect}`,
        concurrency: 20,
        leaseMs: 60_000,
        idlePollMs: 200,
        onError: (error) => errors.push(error),
      });
      dispatcher.start();

      const open = store;
      await expect.poll(async () => (await open.countByStatus()).sent, { timeout: 15_000, interval: 100 }).toBe(20);
      expect((await open.countByStatus()).sending).toBe(0);
      expect(primary.accepted).toHaveLength(17);
      expect(backup.accepted).toHaveLength(3);

      const details = await Promise.all(ids.map((id) => open.getMessage(id)));
      const failed = details.flatMap((detail) => detail?.attempts.filter((attempt) => attempt.outcome === 'failed') ?? []);
      expect(failed).toHaveLength(3);
      for (const attempt of failed) {
        expect(attempt).toMatchObject({ provider: 'primary', errorCode: expect.any(String) });
        const stored = JSON.stringify(attempt);
        expect(stored).not.toMatch(/\\u0000|\\ud800/i);
      }
      const withBody = failed.filter((attempt) => attempt.statusCode === 500);
      expect(withBody).toHaveLength(2);
      for (const attempt of withBody) {
        expect(attempt.errorMessage).toContain('bad \ufffd thing \ufffd here');
        expect(attempt.detail).toMatchObject({ body: { errors: [{ message: 'bad \ufffd thing \ufffd here' }] } });
      }
      expect(errors).toEqual([]);
    }, 30_000);
  });
}
