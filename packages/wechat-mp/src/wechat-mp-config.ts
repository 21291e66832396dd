import { parseConfig, TokenStoreConfigSchema } from '@kefu/core';
import { z } from 'zod';
import { wechatMpError } from './errors.js';

/** One Official Account: its app id and secret (the secret is registered for redaction). */
export const WechatMpAccountSchema = z.strictObject({
  appId: z.string().min(1, 'appId is required (the AppID of the Official Account, e.g. wx1234…)'),
  secret: z.string().min(1, 'secret is required (the AppSecret of the Official Account)'),
  name: z.string().optional(),
  /** The server URL settings (公众号 服务器配置): set to receive pushes with `kefu serve`. */
  push: z
    .strictObject({
      token: z.string().min(3, 'push.token is the Token of 服务器配置 (3–32 letters and digits)'),
      encodingAesKey: z
        .string()
        .regex(/^[A-Za-z0-9]{43}$/, 'push.encodingAesKey is the 43-character EncodingAESKey of 服务器配置')
        .optional(),
      previousToken: z.string().min(3).optional(),
      previousEncodingAesKey: z
        .string()
        .regex(/^[A-Za-z0-9]{43}$/)
        .optional(),
      /** Path of the server URL under `kefu serve` (default `/wechat/{appId}`). */
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'push.path is a URL path starting with /')
        .optional(),
      /** Pushes whose timestamp is further than this from the clock are refused (default 300 s). */
      timestampWindowSeconds: z.number().int().positive().optional(),
    })
    .optional(),
});
/** One configured Official Account. */
export type WechatMpAccount = z.infer<typeof WechatMpAccountSchema>;

// The `tokenStore` block is core's, shared with the other providers; re-exported for existing imports.
export { TokenStoreConfigSchema };

/** The configuration of the wechat-mp provider (one instance may serve several app ids). */
export const WechatMpConfigSchema = z
  .strictObject({
    accounts: z.array(WechatMpAccountSchema).min(1, 'configure at least one account { appId, secret }'),
    baseUrl: z.url().default('https://api.weixin.qq.com'),
    tokenEndpoint: z.enum(['stable', 'classic']).default('stable'),
    tokenStore: TokenStoreConfigSchema.default({ type: 'memory' }),
    /** Refresh tokens this long before they expire. */
    refreshMarginMs: z.number().int().nonnegative().default(300_000),
    recordApi: z.enum(['msglist', '2015', 'legacy']).default('msglist'),
    /** Records per request (default msglist 2 000, 2015 50, legacy 1000); capped at the API's limit (10 000, 50, 1000). */
    pageSize: z.number().int().positive().optional(),
    timeouts: z
      .strictObject({
        connectMs: z.number().int().positive().default(10_000),
        requestMs: z.number().int().positive().default(30_000),
      })
      .default({ connectMs: 10_000, requestMs: 30_000 }),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).default(6),
        baseDelayMs: z.number().int().nonnegative().default(200),
        maxDelayMs: z.number().int().nonnegative().default(30_000),
      })
      .default({ maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 30_000 }),
  })
  .refine((config) => new Set(config.accounts.map((a) => a.appId)).size === config.accounts.length, {
    message: 'each appId may appear only once in `accounts`',
    path: ['accounts'],
  });
/** The validated configuration. */
export type WechatMpConfig = z.output<typeof WechatMpConfigSchema>;
/** The configuration as written (defaults optional). */
export type WechatMpConfigInput = z.input<typeof WechatMpConfigSchema>;

/** Validates a configuration, failing with WECHAT_CONFIG_INVALID naming every bad field. */
export function parseWechatMpConfig(input: unknown): WechatMpConfig {
  return parseConfig(WechatMpConfigSchema, input, 'wechat-mp config', (message, details) =>
    wechatMpError('WECHAT_CONFIG_INVALID', message, { details }),
  );
}
