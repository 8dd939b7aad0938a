import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString } from './redact.js';

describe('redact', () => {
  it('masks secret-named fields at any depth, keeping the rest', () => {
    const input = {
      status: 401,
      headers: { Authorization: 'Bearer abc', 'x-request-id': 'r-1', 'Set-Cookie': 's=1' },
      config: { auth: { user: 'u', pass: 'hunter22' }, nested: [{ apiKey: 'k-123456' }] },
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'shh' },
    };
    const out = redact(input);
    expect(out.headers).toEqual({ Authorization: REDACTED, 'x-request-id': 'r-1', 'Set-Cookie': REDACTED });
    expect(out.config.auth).toEqual({ user: 'u', pass: REDACTED });
    expect(out.config.nested[0]).toEqual({ apiKey: REDACTED });
    expect(out.credentials).toBe(REDACTED);
    expect(out.status).toBe(401);
    expect(input.headers.Authorization).toBe('Bearer abc');
  });

  it('masks secret-looking substrings and known secret values inside text', () => {
    const text =
      'key SG.aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbb sent with Bearer xyz.123 from AKIAIOSFODNN7EXAMPLE Credential=AKIA/2024 Signature=deadbeef and hunter22';
    const out = redactString(text, ['hunter22']);
    expect(out).not.toMatch(/SG\.a|xyz\.123|AKIAIOSFODNN7EXAMPLE|deadbeef|hunter22/);
    expect(out).toContain('Credential=[REDACTED]');
    expect(out).toContain('Signature=[REDACTED]');
  });
});

describe('redact with overlapping secrets', () => {
  it('masks the longer secret whole when a shorter one is inside it', () => {
    const blob = Buffer.from('\u0000relay-user\u0000hunter22').toString('base64');
    const passwordBase64 = Buffer.from('hunter22').toString('base64');
    expect(redactString(`AUTH PLAIN ${blob}`, [passwordBase64, blob])).toBe('AUTH PLAIN [REDACTED]');
  });
});
