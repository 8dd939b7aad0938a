import { z } from 'zod';
import { hasControlCharacter } from './text.js';

export interface Address {
  readonly email: string;
  readonly name?: string;
}

const NAME_ADDR = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>\s]+)>\s*$/;

const emailSchema = z.email({ message: 'must be a valid e-mail address' }).max(254, { message: 'must be at most 254 characters' });

const displayNameSchema = z
  .string()
  .max(256, { message: 'must be at most 256 characters' })
  .refine((name) => !hasControlCharacter(name), {
    message: 'must not contain line breaks or control characters',
  });

const addressObjectSchema = z.strictObject({
  email: emailSchema,
  name: displayNameSchema.optional(),
});

/**
 * An address is `{ email, name? }`, a bare `user@example.com`, or `Name <user@example.com>`.
 * The string forms are normalised to the object form first, so a bad address is reported
 * at `email` or `name` with the same words whichever form was sent.
 */
export const addressSchema = z.preprocess(
  (raw) => (typeof raw === 'string' ? parseAddressString(raw) : raw),
  addressObjectSchema,
) as z.ZodType<Address, AddressInput>;

/** What a caller may send as an address (a typed client checks it at compile time). */
export type AddressInput = string | { readonly email: string; readonly name?: string | undefined };

function parseAddressString(raw: string): { email: string; name?: string } {
  const named = NAME_ADDR.exec(raw);
  if (!named) return { email: raw.trim() };
  const name = (named[1]?.replace(/\\(.)/g, '$1') ?? named[2] ?? '').trim();
  const email = named[3] ?? '';
  return name ? { email, name } : { email };
}

export function formatAddress(address: Address): string {
  if (!address.name) return address.email;
  return `"${address.name.replace(/(["\\])/g, '\\$1')}" <${address.email}>`;
}
