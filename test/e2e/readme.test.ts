import { readFileSync } from 'node:fs';
import { configSchema, parseConfig, providerConfigSchema } from '@mailroute/server';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

/** The README's configuration section stays true: its example is valid, its table names every field. */

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Running mailroute'));
const firstCells = section
  .split('\n')
  .filter((line) => line.startsWith('| '))
  .map((line) => line.split(' | ')[0]?.slice(2) ?? '');

/** The object inside `.default()` / `.optional()` wrappers. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> {
  let current = schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } };
  while (current._zod.def.innerType) current = current._zod.def.innerType as unknown as typeof current;
  return current._zod.def.shape ?? {};
}

describe('README configuration reference', () => {
  it('has an example that validates: SendGrid first, SES second, SMTP last, secrets from the environment', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const env = { SENDGRID_API_KEY: 'SG.k', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12', AWS_SECRET_ACCESS_KEY: 's', SMTP_PASSWORD: 'p' };
    const config = parseConfig(yaml, env);
    expect(config.providers.map((provider) => provider.type)).toEqual(['sendgrid', 'ses', 'smtp']);
    expect(config.providers[0]).toMatchObject({ apiKey: 'SG.k' });
    expect(() => parseConfig(yaml, {})).toThrow(/SENDGRID_API_KEY/);
  });

  it('documents every field of every section', () => {
    const shape = objectShape(configSchema);
    const missing: string[] = [];
    for (const [section, schema] of Object.entries(shape)) {
      if (section === 'providers') continue;
      for (const [field, fieldSchema] of Object.entries(objectShape(schema))) {
        const nested = ['rateLimit', 'timeouts', 'cors'].includes(field)
          ? Object.keys(objectShape(fieldSchema)).map((leaf) => `${field}.${leaf}`)
          : [field];
        for (const path of nested) if (!firstCells.includes(`\`${section}.${path}\``)) missing.push(`${section}.${path}`);
      }
    }
    for (const option of (providerConfigSchema as unknown as { options: z.ZodType[] }).options) {
      const { type, name: _, ...fields } = objectShape(option);
      const typeName = (type as unknown as { _zod: { def: { values: string[] } } })._zod.def.values[0];
      for (const field of Object.keys(fields)) {
        if (!firstCells.some((cell) => cell.startsWith(`${typeName} `) && cell.includes(`\`${field}\``)))
          missing.push(`${typeName} ${field}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
