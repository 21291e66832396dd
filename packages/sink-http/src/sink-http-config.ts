import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { httpSinkError } from './errors.js';

/** Back-off of retried deliveries (exponential with jitter, see @kefu/core `RetryPolicy`). */
export const HttpSinkRetrySchema = z.strictObject({
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe('Attempts in total, the first included (1 = no retry).'),
  baseDelayMs: z.number().int().min(0).default(250).describe('Delay before the first retry, before jitter.'),
  maxDelayMs: z.number().int().min(0).default(30_000).describe('Upper bound of any single back-off delay.'),
  /** 0 = none, 1 = full jitter. */
  jitter: z.number().min(0).max(1).default(1).describe('0 = none, 1 = full jitter.'),
});

/**
 * Configuration of the HTTP (webhook) sink, as written in a config file or passed to
 * {@link HttpSink}. Validated by zod; errors name the field.
 */
export const HttpSinkConfigSchema = z
  .strictObject({
    /** Instance id (unique in one runtime); the plugin sets it from the config. */
    id: z
      .string()
      .min(1)
      .default('http')
      .describe('Instance id (unique in one runtime); the plugin sets it from the config.'),
    /** The webhook URL (http or https). */
    url: z.url({ protocol: /^https?$/ }).describe('The webhook URL (http or https).'),
    /** HMAC-SHA256 key for `X-Kefu-Signature`; at least 16 characters (32 random bytes recommended). */
    secret: z
      .string()
      .min(16, 'must be at least 16 characters (use 32 random bytes, e.g. `openssl rand -hex 32`)')
      .describe('HMAC-SHA256 key for X-Kefu-Signature; at least 16 characters (32 random bytes recommended).'),
    /** Body format: one JSON array of records, or NDJSON (one record per line). */
    format: z
      .enum(['json', 'ndjson'])
      .default('json')
      .describe('Body format: one JSON array of records, or NDJSON (one record per line).'),
    /** Batches in flight at once; also the number of keep-alive connections. */
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Batches in flight at once; also the number of keep-alive connections.'),
    /** Extra request headers (e.g. Authorization); sensitive values are redacted in logs. */
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra request headers (e.g. Authorization); sensitive values are redacted in logs.'),
    timeouts: z
      .strictObject({
        connectMs: z.number().int().positive().default(10_000).describe('TCP/TLS connect timeout.'),
        /** Limit for the response headers and for the response body each. */
        responseMs: z
          .number()
          .int()
          .positive()
          .default(30_000)
          .describe('Limit for the response headers and for the response body each.'),
        /** Idle keep-alive sockets close after this. */
        keepAliveMs: z.number().int().positive().default(30_000).describe('Idle keep-alive sockets close after this.'),
      })
      .prefault({}),
    retry: HttpSinkRetrySchema.prefault({}),
    /** Upper bound of a server's Retry-After that is honoured as is. */
    maxRetryAfterMs: z
      .number()
      .int()
      .min(0)
      .default(300_000)
      .describe("Upper bound of a server's Retry-After that is honoured as is."),
    /** `dead-letter` (default): write the batch to `deadLetterPath`, fsync, then resolve. `fail`: reject. */
    onPermanentFailure: z
      .enum(['dead-letter', 'fail'])
      .default('dead-letter')
      .describe('dead-letter (default): write the batch to deadLetterPath, fsync, then resolve. fail: reject.'),
    /** JSONL file (mode 0600) receiving batches that failed permanently. */
    deadLetterPath: z
      .string()
      .min(1)
      .optional()
      .describe('JSONL file (mode 0600) receiving batches that failed permanently.'),
  })
  .superRefine((config, context) => {
    if (config.onPermanentFailure === 'dead-letter' && config.deadLetterPath === undefined)
      context.addIssue({
        code: 'custom',
        path: ['deadLetterPath'],
        message: "required when onPermanentFailure is 'dead-letter' (the default); or set onPermanentFailure: 'fail'",
      });
  });

/** The HTTP sink configuration as written (defaults optional). */
export type HttpSinkConfigInput = z.input<typeof HttpSinkConfigSchema>;
/** The validated HTTP sink configuration (defaults applied). */
export type HttpSinkConfig = z.output<typeof HttpSinkConfigSchema>;

/** Validates an HTTP sink configuration, throwing SINK_HTTP_CONFIG_INVALID naming the field. */
export function parseHttpSinkConfig(input: unknown): HttpSinkConfig {
  return parseConfig(HttpSinkConfigSchema, input, 'http sink config', (message, details) =>
    httpSinkError('SINK_HTTP_CONFIG_INVALID', message, { details }),
  );
}
