import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { youmiError } from './errors.js';

/**
 * Configuration of the Youmi provider. Base and token URLs are not public (API-NOTES):
 * both are required. v2 authenticates with OAuth2 client credentials, v1 with an
 * HMAC-SHA1 signature over app id, nonce and timestamp.
 */

/** Largest page kefu asks for: a capped page would look like the last one (see `pageSize`). */
export const YOUMI_MAX_PAGE_SIZE = 100;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });
const positiveInt = z.int().positive();

/** Timeouts of the HTTP calls, in milliseconds. */
export const YoumiTimeoutsSchema = z.strictObject({
  connectMs: positiveInt.default(10_000),
  headersMs: positiveInt.default(30_000),
  bodyMs: positiveInt.default(60_000),
});

/** Retry of transient failures (network, 5xx, malformed bodies); see core's RetryPolicy. */
export const YoumiRetrySchema = z.strictObject({
  maxAttempts: positiveInt.max(20).default(5),
  baseDelayMs: z.int().min(0).default(200),
  maxDelayMs: z.int().min(0).default(10_000),
  jitter: z.number().min(0).max(1).default(1),
});

/** v1 credentials (HMAC-SHA1 signed headers). */
export const YoumiV1CredentialsSchema = z.strictObject({
  appId: z.string().min(1),
  appKey: z.string().min(4),
  /** Path of the v1 token call, relative to `baseUrl`. */
  tokenPath: z.string().startsWith('/').default('/v1/Token/GetToken'),
});

/** The provider configuration (the `config` block of `@kefu/youmi` in kefu.yaml). */
export const YoumiConfigSchema = z
  .strictObject({
    /** API base URL, e.g. `https://open.example.com` (paths start with /v2/…). */
    baseUrl: httpUrl,
    /** OAuth2 token endpoint on the SSO host (v2). */
    tokenUrl: httpUrl.optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(4).optional(),
    scope: z.string().min(1).optional(),
    /** Agents only: sent as the `TenantId` header. */
    tenantId: z.string().min(1).optional(),
    /** Operating accounts (运营号) this instance reads; records' `account` is the id as a string. */
    wechatIds: z.array(positiveInt).min(1),
    auth: z.enum(['v2', 'v1']).default('v2'),
    v1: YoumiV1CredentialsSchema.optional(),
    /** Fans whose chats are fetched at the same time (pages are still emitted in fan order). */
    fanConcurrency: positiveInt.max(32).default(4),
    /**
     * Records per GetChat request (sent as a string, as seed 002 requires). A page shorter
     * than this is taken as a fan's last, so it must not exceed the platform's page cap
     * (100 on the emulator; the real cap is not documented).
     */
    pageSize: positiveInt.max(YOUMI_MAX_PAGE_SIZE).default(YOUMI_MAX_PAGE_SIZE),
    /** Fans per GetFansList request; same rule as `pageSize`. */
    fanPageSize: positiveInt.max(YOUMI_MAX_PAGE_SIZE).default(YOUMI_MAX_PAGE_SIZE),
    /** Refresh the bearer token this long before it expires. */
    tokenRefreshMarginSeconds: z.int().min(0).default(300),
    /**
     * Offset of `ad_chatting_time` values without a zone (`YYYY-MM-DD HH:mm:ss`), in
     * minutes east of UTC. Youmi serves China time: +480.
     */
    timeZoneOffsetMinutes: z.int().min(-720).max(840).default(480),
    timeouts: YoumiTimeoutsSchema.default({ connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 }),
    retry: YoumiRetrySchema.default({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, jitter: 1 }),
  })
  .superRefine((config, context) => {
    if (config.auth === 'v2') {
      for (const field of ['tokenUrl', 'clientId', 'clientSecret'] as const) {
        if (config[field] === undefined) {
          context.addIssue({ code: 'custom', path: [field], message: `is required when auth is 'v2'` });
        }
      }
    } else if (config.v1 === undefined) {
      context.addIssue({ code: 'custom', path: ['v1'], message: `{ appId, appKey } is required when auth is 'v1'` });
    }
    if (new Set(config.wechatIds).size !== config.wechatIds.length) {
      context.addIssue({ code: 'custom', path: ['wechatIds'], message: 'must not repeat an id' });
    }
  });

/** A validated configuration, defaults applied. */
export type YoumiConfig = z.output<typeof YoumiConfigSchema>;
/** A configuration as users write it. */
export type YoumiConfigInput = z.input<typeof YoumiConfigSchema>;

/** Validates a configuration, throwing YOUMI_CONFIG_INVALID naming the first bad field. */
export function parseYoumiConfig(input: unknown): YoumiConfig {
  return parseConfig(YoumiConfigSchema, input, 'youmi config', (message, details) =>
    youmiError('YOUMI_CONFIG_INVALID', message, { details }),
  );
}
