import { z } from 'zod';

export const captureProviderConfigSchema = z.strictObject({
  type: z.literal('capture'),
  name: z.string().min(1),
  /** Folder that receives one `.eml` and one `.json` per message; absent keeps mail in memory. */
  directory: z.string().min(1).optional(),
  /** In memory, the oldest messages are dropped beyond this many. */
  maxInMemory: z.number().int().min(1).default(1000),
});

export type CaptureProviderConfigInput = z.input<typeof captureProviderConfigSchema>;
export type CaptureProviderConfig = z.output<typeof captureProviderConfigSchema>;
