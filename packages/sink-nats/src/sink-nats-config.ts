import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { natsSinkError } from './errors.js';

/** Stream names may not contain `.`, whitespace, `*`, `>`, path separators (nats-server rules). */
const StreamNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1–64 letters, digits, `_` or `-` (no dots, spaces or wildcards)');

/** The subject prefix: one or more dot-separated tokens without wildcards. */
const SubjectPrefixSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    'use dot-separated tokens of letters, digits, `_` or `-` (no wildcards)',
  );

/** How the sink authenticates (all optional; secrets are registered for redaction). */
export const NatsCredentialsSchema = z.strictObject({
  /** User name (with `pass`). */
  user: z.string().min(1).optional(),
  /** Password (with `user`). */
  pass: z.string().min(1).optional(),
  /** Authentication token. */
  token: z.string().min(1).optional(),
});

/** Configuration of {@link NatsJetStreamSink} (also the plugin's `config` block). */
export const NatsSinkConfigSchema = z.strictObject({
  /** Instance id (unique in one runtime); the plugin sets it from the config. */
  id: z.string().min(1).default('nats'),
  /** One or more `nats://host:port` URLs. */
  servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('nats://127.0.0.1:4222'),
  /** The JetStream stream receiving the records (created when missing, with subjects `<subjectPrefix>.>`). */
  stream: StreamNameSchema.default('KEFU_RECORDS'),
  /** First subject token(s); records go to `<subjectPrefix>.<provider>.<account>.<kind>`. */
  subjectPrefix: SubjectPrefixSchema.default('kefu'),
  /** Create the stream when it does not exist (default true); false = it must exist. */
  createStream: z.boolean().default(true),
  /**
   * The stream's duplicate window in seconds, for a stream the sink creates (default 3600):
   * replays of a batch within this window are dropped by the server. Make it longer than
   * the longest gap between a failed write and its retry (worker lease expiry included).
   */
  duplicateWindowSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /** Publishes awaiting their PubAck at once, per write (default 256). */
  maxInFlight: z.number().int().min(1).max(10_000).default(256),
  /** How long to wait for each PubAck, in ms (default 10000). */
  publishTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** How long to wait for the connection, in ms (default 5000). */
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
  credentials: NatsCredentialsSchema.optional(),
});
/** The NATS sink configuration as written (defaults optional). */
export type NatsSinkConfigInput = z.input<typeof NatsSinkConfigSchema>;
/** The validated NATS sink configuration (defaults applied). */
export type NatsSinkConfig = z.output<typeof NatsSinkConfigSchema>;

/** Validates a NATS sink configuration, throwing SINK_NATS_CONFIG_INVALID naming the field. */
export function parseNatsSinkConfig(input: unknown): NatsSinkConfig {
  return parseConfig(NatsSinkConfigSchema, input, 'nats sink config', (message, details) =>
    natsSinkError('SINK_NATS_CONFIG_INVALID', message, { details }),
  );
}
