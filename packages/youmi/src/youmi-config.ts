import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { YoumiCallbacksConfigSchema } from './callbacks-config.js';
import { youmiError } from './errors.js';

/**
 * Configuration of the Youmi provider (platforms/youmi-api.md). Records and the v2 calls
 * use the v2 API (bearer token of 获取商户TOKEN); the v1 calls need `v1` credentials too.
 * Every key is listed in docs/providers/youmi.md.
 */

/** The documented v2 token URL (获取商户TOKEN, §1.1). */
export const YOUMI_TOKEN_URL = 'https://sso.yunshouzhi.net/connect/token';
/** The documented fixed scope of the token call (§1.1). */
export const YOUMI_SCOPE = 'Ls.Qkl.PublicApi';
/** The documented public v1 token URL (§1.2: `http://api10.agsoft.net:5001/publicapi/v1` + `GetAccessToken`). */
export const YOUMI_V1_TOKEN_URL = 'http://api10.agsoft.net:5001/publicapi/v1/GetAccessToken';

/** Largest page kefu asks for by default: a capped page would look like the last one (see `pageSize`). */
export const YOUMI_MAX_PAGE_SIZE = 100;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });
const positiveInt = z.int().positive();

/** Timeouts of the HTTP calls, in milliseconds. */
export const YoumiTimeoutsSchema = z.strictObject({
  connectMs: positiveInt.default(10_000),
  headersMs: positiveInt.default(30_000),
  bodyMs: positiveInt.default(60_000),
});

/** Retry of transient failures (network, 5xx, malformed bodies, server-error codes); see core's RetryPolicy. */
export const YoumiRetrySchema = z.strictObject({
  maxAttempts: positiveInt.max(20).default(5),
  baseDelayMs: z.int().min(0).default(200),
  maxDelayMs: z.int().min(0).default(10_000),
  jitter: z.number().min(0).max(1).default(1),
});

/** v1 credentials (HMAC-SHA1 signatures, §1.2). */
export const YoumiV1ConfigSchema = z.strictObject({
  /** 登陆APPID (监控ID). */
  appId: z.string().min(1),
  /** The key generated under 后台-后勤-CRM对接; signs every v1 request. */
  appKey: z.string().min(4),
  /** The v1 token call `…/publicapi/v1/GetAccessToken` (default: the documented public server). */
  tokenUrl: httpUrl.default(YOUMI_V1_TOKEN_URL),
  /** Base of the v1 data calls, e.g. `http://<your server>:5003/v1` (the docs give no public one). */
  baseUrl: httpUrl,
});

/** The provider configuration (the `config` block of `@kefu/youmi` in kefu.yaml). */
export const YoumiConfigSchema = z
  .strictObject({
    /** v2 API base URL: the host in front of `/v2/…` (not public: ask Youmi or your agent). */
    baseUrl: httpUrl,
    /** The token call 获取商户TOKEN (default the documented `https://sso.yunshouzhi.net/connect/token`). */
    tokenUrl: httpUrl.default(YOUMI_TOKEN_URL),
    /** `client_id` (generated in 计费云后台). */
    clientId: z.string().min(1),
    /** `client_secret`; registered for redaction. */
    clientSecret: z.string().min(4),
    /** `scope` of the token call (documented fixed value `Ls.Qkl.PublicApi`). */
    scope: z.string().min(1).default(YOUMI_SCOPE),
    /** Agents only: sent as the `TenantId` header. */
    tenantId: z.string().min(1).optional(),
    /** Operating accounts (运营号) this instance reads; records' `account` is the id as a string. */
    wechatIds: z.array(positiveInt).min(1),
    /** Authenticated callbacks under `kefu serve` (see `YoumiPushReceiver`). */
    callbacks: YoumiCallbacksConfigSchema.optional(),
    /** v1 credentials, for the v1 calls (`provider.v1`). */
    v1: YoumiV1ConfigSchema.optional(),
    /** Fans whose chats are fetched at the same time (pages are still emitted in fan order). */
    fanConcurrency: positiveInt.max(32).default(4),
    /**
     * Records per GetChat request (sent as a string, as seed 002 requires). A page shorter
     * than this is taken as the last of its query, so it must not exceed the platform's page
     * cap (undocumented; the emulator's is 100).
     */
    pageSize: positiveInt.max(YOUMI_MAX_PAGE_SIZE).default(YOUMI_MAX_PAGE_SIZE),
    /** Fans per GetFansList request; same rule as `pageSize`. */
    fanPageSize: positiveInt.max(YOUMI_MAX_PAGE_SIZE).default(YOUMI_MAX_PAGE_SIZE),
    /**
     * The field of a GetFansList row that holds the fan key GetChat takes. GetFansList's
     * response was not seen (§2.4): by default the first present of `fansKey`, `fansKe`,
     * `ad_relation_talter`, `ad_chatting_talter`, `ad_friend_wenober`.
     */
    fanKeyField: z.string().min(1).optional(),
    /** Refresh the token this long before it expires. */
    tokenRefreshMarginSeconds: z.int().min(0).default(300),
    /**
     * Offset of times written without a zone, in minutes east of UTC. Youmi writes Beijing
     * time (+480); change it only for a self-hosted v1 server in another zone.
     */
    timeZoneOffsetMinutes: z.int().min(-720).max(840).default(480),
    timeouts: YoumiTimeoutsSchema.default({ connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 }),
    retry: YoumiRetrySchema.default({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, jitter: 1 }),
  })
  .superRefine((config, context) => {
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
