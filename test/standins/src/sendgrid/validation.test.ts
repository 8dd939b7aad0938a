import { beforeAll, describe, expect, it } from 'vitest';
import { loadMailSendSchemaValidator, type MailSendSchemaValidator } from './spec.js';
import { mailSendErrors } from './validation.js';

const rules = { isInvalidAddress: (email: string) => email.toLowerCase().endsWith('@invalid.test') };

const valid = () => ({
  personalizations: [{ to: [{ email: 'guest@example.com', name: '山田 太郎' }], cc: [{ email: 'desk@example.com' }] }],
  from: { email: 'booking@example.com', name: 'Booking' },
  subject: 'ご予約の確認',
  content: [
    { type: 'text/plain', value: 'hello' },
    { type: 'text/html', value: '<p>hello</p>' },
  ],
  attachments: [{ content: 'aGVsbG8=', filename: 'a.txt', type: 'text/plain', disposition: 'attachment' }],
  categories: ['booking'],
  headers: { 'X-Mailroute-Id': 'm1' },
  custom_args: { mailroute_id: 'm1', order: '42' },
});

let patched: MailSendSchemaValidator;
let unpatched: MailSendSchemaValidator;

beforeAll(async () => {
  [patched, unpatched] = await Promise.all([loadMailSendSchemaValidator(), loadMailSendSchemaValidator({ patchCustomArgs: false })]);
});

const errorsOf = (body: unknown, schema = patched) => mailSendErrors(body, schema, rules);

describe('SendGrid mail send validation (official OpenAPI description)', () => {
  it('accepts a complete valid body', () => {
    expect(errorsOf(valid())).toEqual([]);
  });

  it('rejects wrong types, naming the field', () => {
    const errors = errorsOf({ ...valid(), subject: 5 });
    expect(errors).toEqual([expect.objectContaining({ field: 'subject', message: 'Invalid type. Expected: string, given: integer.' })]);
  });

  it('rejects a body without from', () => {
    const { from: _from, ...body } = valid();
    expect(errorsOf(body)).toEqual([expect.objectContaining({ field: 'from.email', message: expect.stringMatching(/^The from object/) })]);
  });

  it('rejects a malformed recipient address through the schema format', () => {
    const body = valid();
    body.personalizations[0] = { to: [{ email: 'not-an-address', name: 'x' }], cc: [] };
    expect(errorsOf(body)).toEqual([
      expect.objectContaining({ field: 'personalizations.0.to.0.email', message: 'Does not contain a valid address.' }),
    ]);
  });

  it('rejects an unknown attachment disposition and repeated categories', () => {
    const body = { ...valid(), categories: ['a', 'a'], attachments: [{ content: 'aGVsbG8=', filename: 'a.txt', disposition: 'hidden' }] };
    const fields = errorsOf(body).map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['attachments.0.disposition', 'categories']));
  });

  it('judges custom_args as the real API does only with the patch', () => {
    const asString = { ...valid(), custom_args: 'mailroute_id=m1' };
    const asObject = valid();
    expect(errorsOf(asString, unpatched)).toEqual([]);
    expect(errorsOf(asObject, unpatched).map((error) => error.field)).toEqual(['custom_args']);
    expect(errorsOf(asString)).toEqual([
      expect.objectContaining({ field: 'custom_args', message: 'Invalid type. Expected: object, given: string.' }),
    ]);
    expect(errorsOf({ ...valid(), custom_args: { count: 3 } }).map((error) => error.field)).toEqual(['custom_args.count']);
  });

  it('requires at least one to recipient per personalization', () => {
    const body = valid();
    body.personalizations[0] = { to: [], cc: [{ email: 'desk@example.com' }] };
    expect(errorsOf(body)).toEqual([expect.objectContaining({ field: 'personalizations.0.to' })]);
    expect(errorsOf({ ...valid(), personalizations: [] })).toEqual([expect.objectContaining({ field: 'personalizations' })]);
  });

  it('refuses the same address twice within a personalization, whatever its case', () => {
    const body = valid();
    body.personalizations[0] = { to: [{ email: 'guest@example.com', name: 'a' }], cc: [{ email: 'GUEST@example.com' }] };
    expect(errorsOf(body)).toEqual([
      expect.objectContaining({ field: 'personalizations.0', message: expect.stringContaining('personalizations.0.cc field') }),
    ]);
  });

  it('calls addresses marked invalid invalid, at the field SendGrid names', () => {
    const body = valid();
    body.personalizations[0] = { to: [{ email: 'nobody@invalid.test', name: 'x' }], cc: [] };
    expect(errorsOf(body)).toEqual([
      { field: 'personalizations.0.to.0.email', message: 'Does not contain a valid address.', help: expect.any(String) },
    ]);
    expect(errorsOf({ ...valid(), from: { email: 'sender@invalid.test' } })).toEqual([
      expect.objectContaining({ field: 'from.email', message: 'The from email does not contain a valid address.' }),
    ]);
  });

  it('requires content, text/plain before text/html', () => {
    const reversed = { ...valid(), content: [...valid().content].reverse() };
    expect(errorsOf(reversed)).toEqual([expect.objectContaining({ field: 'content' })]);
    const { content: _content, ...withoutContent } = valid();
    expect(errorsOf(withoutContent)).toEqual([expect.objectContaining({ field: 'content' })]);
    expect(errorsOf({ ...valid(), content: [{ type: 'text/html', value: '<p>only html</p>' }] })).toEqual([]);
  });
});
