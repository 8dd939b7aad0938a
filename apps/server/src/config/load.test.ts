import { describe, expect, it } from 'vitest';
import { ConfigError, interpolateEnv, parseConfig } from './load.js';

const yaml = `
database:
  url: file:./data/test.db
providers:
  - type: sendgrid
    name: sendgrid
    apiKey: \${SENDGRID_API_KEY}
  - type: ses
    name: ses
    region: eu-west-1
  - type: smtp
    name: smtp
    url: smtp://relay.example:587
routing:
  strategy: weighted
  weights: { sendgrid: 3, ses: 1, smtp: 0 }
  breaker: { timeoutMs: 5000 }
`;

describe('configuration', () => {
  it('parses YAML, fills defaults and interpolates secrets from the environment', () => {
    const config = parseConfig(yaml, { SENDGRID_API_KEY: 'SG.from-env' });
    expect(config.providers.map((provider) => provider.type)).toEqual(['sendgrid', 'ses', 'smtp']);
    expect(config.providers[0]).toMatchObject({ apiKey: 'SG.from-env', baseUrl: 'https://api.sendgrid.com' });
    expect(config.routing).toMatchObject({ strategy: 'weighted', ambiguousPolicy: 'resend', breaker: { timeoutMs: 5000 } });
    expect(config.retry.maxAttempts).toBe(12);
    expect(config.worker.concurrency).toBe(100);
  });

  it('accepts JSON too, and an empty file means the embedded defaults', () => {
    expect(parseConfig('{"providers": []}', {}).database.url).toBe('file:./data/mailroute.db');
    expect(parseConfig('', {}).providers).toEqual([]);
  });

  it('names a missing environment variable instead of sending with an empty key', () => {
    expect(() => parseConfig(yaml, {})).toThrow(new ConfigError('environment variables not set: SENDGRID_API_KEY'));
    expect(interpolateEnv(`a \${X} b`, { X: '1' })).toBe('a 1 b');
  });

  it('reports every invalid field with its path', () => {
    const bad = `
providers:
  - { type: sendgrid, name: a, apiKey: k, baseUrl: not-a-url }
  - { type: pigeon, name: b }
  - { type: smtp, name: a, host: h }
routing: { weights: { ghost: 1 } }
unknown: 1
`;
    let message = '';
    try {
      parseConfig(bad, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/providers\.0\.baseUrl/);
    expect(message).toMatch(/providers\.1\.type/);
    expect(message).toMatch(/unknown/);
  });

  it('validates the edge: timeouts positive and headers within the request timeout, CORS origins exact', () => {
    const refusal = (text: string) => {
      try {
        parseConfig(text, {});
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    expect(refusal('server: { timeouts: { bodyIdleMs: 0 } }')).toMatch(/server\.timeouts\.bodyIdleMs/);
    expect(refusal('server: { timeouts: { headersMs: 20000, requestMs: 10000 } }')).toMatch(
      /server\.timeouts\.headersMs.*may not be longer than requestMs/,
    );
    for (const origin of ['"*"', 'null', 'https://app.example.com/', 'https://app.example.com/path']) {
      expect(refusal(`server: { cors: { origins: [${origin}] } }`)).toMatch(/server\.cors\.origins\.0/);
    }
    const config = parseConfig('server: { cors: { origins: ["https://app.example.com", "http://localhost:5173"] } }', {});
    expect(config.server.cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(parseConfig('', {}).server.timeouts).toEqual({ headersMs: 10_000, bodyIdleMs: 30_000, requestMs: 300_000, keepAliveMs: 72_000 });
  });

  it('refuses duplicate provider names and routing entries for unknown providers', () => {
    const text = `
providers:
  - { type: capture, name: a }
  - { type: capture, name: a }
routing: { weights: { ghost: 1 } }
`;
    expect(() => parseConfig(text, {})).toThrow(/used twice[\s\S]*unknown provider "ghost"/);
  });

  it('refuses a worker concurrency above a provider breaker capacity, naming the provider and both settings', () => {
    const text = (routing: string) => `
providers:
  - { type: capture, name: a }
  - { type: capture, name: b }
worker: { concurrency: 150 }
${routing}
`;
    expect(() => parseConfig(text(''), {})).toThrow(/worker\.concurrency 150 is above the breaker capacity 100 of provider "a"/);
    expect(() => parseConfig(text('routing: { breaker: { capacity: 150 }, providerBreakers: { b: { capacity: 120 } } }'), {})).toThrow(
      /capacity 120 of provider "b"/,
    );
    expect(parseConfig(text('routing: { breaker: { capacity: 150 } }'), {}).worker.concurrency).toBe(150);
  });

  it('refuses a shutdown grace shorter than the longest send (every provider timeout in turn), naming both settings', () => {
    const text = (worker: string) => `
providers:
  - { type: capture, name: a }
  - { type: capture, name: b }
routing: { breaker: { timeoutMs: 10000 }, providerBreakers: { b: { timeoutMs: 25000 } } }
${worker}
`;
    expect(() => parseConfig(text(''), {})).toThrow(
      /worker\.shutdownGraceMs 30000 is shorter than the longest send, 35000 ms \(routing\.breaker\.timeoutMs or routing\.providerBreakers\.<name>\.timeoutMs of every provider in turn: a 10000 \+ b 25000\)/,
    );
    expect(() => parseConfig(text('worker: { shutdownGraceMs: 34999 }'), {})).toThrow(/at least 35000/);
    expect(parseConfig(text('worker: { shutdownGraceMs: 35000 }'), {}).worker.shutdownGraceMs).toBe(35_000);
    // The defaults fit three providers at the default timeout.
    expect(
      parseConfig('providers: [{ type: capture, name: a }, { type: capture, name: b }, { type: capture, name: c }]', {}).worker
        .shutdownGraceMs,
    ).toBe(30_000);
  });

  it('refuses text that is not YAML or JSON', () => {
    expect(() => parseConfig('providers: [unclosed', {})).toThrow(/not valid YAML\/JSON/);
  });
});
