import { parseConfig, TokenStoreConfigSchema } from '@kefu/core';
import { z } from 'zod';
import { wecomKfError } from './errors.js';

/** One customer-service account (客服账号) this provider reads and manages. */
export const WecomKfAccountSchema = z.strictObject({
  /** The account's open_kfid (`wk…`, from `kf/account/list`); records carry it as their `account`. */
  openKfId: z.string().min(1, 'openKfId is the open_kfid of the customer-service account (wk…)').max(64),
  name: z.string().optional(),
});

/** The app's callback settings (接收消息服务器配置): set them to receive `kf_msg_or_event` with `kefu serve`. */
export const WecomKfCallbackSchema = z.strictObject({
  token: z.string().min(1, 'callback.token is the Token of the callback settings'),
  encodingAesKey: z
    .string()
    .regex(/^[A-Za-z0-9]{43}$/, 'callback.encodingAesKey is the 43-character EncodingAESKey of the callback settings'),
  previousToken: z.string().min(1).optional(),
  previousEncodingAesKey: z
    .string()
    .regex(/^[A-Za-z0-9]{43}$/)
    .optional(),
  /** Path of the callback URL under `kefu serve` (default `/wecom-kf/{corpId}`). */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'callback.path is a URL path starting with /')
    .optional(),
  /** Callbacks whose timestamp is further than this from the clock are refused (default 300 s). */
  timestampWindowSeconds: z.number().int().positive().optional(),
});

/** The configuration of the wecom-kf provider: one WeCom app (corp id + secret) and its kf accounts. */
export const WecomKfConfigSchema = z
  .strictObject({
    /** The CorpID (我的企业 → 企业ID); also the `receiveid` of callbacks. */
    corpId: z.string().min(1, 'corpId is the CorpID of the WeCom corp (ww…)'),
    /** The secret of the app configured in 「微信客服 - 可调用接口的应用」 (redacted everywhere). */
    secret: z.string().min(1, 'secret is the secret of the app that may call the 微信客服 API'),
    accounts: z.array(WecomKfAccountSchema).min(1, 'configure at least one account { openKfId }'),
    callback: WecomKfCallbackSchema.optional(),
    baseUrl: z.url().default('https://qyapi.weixin.qq.com'),
    /** Where the access token is kept when no store is bound under TOKENS.TokenStore: memory, or a 0600 file shared by the processes of one host. */
    tokenStore: TokenStoreConfigSchema.default({ type: 'memory' }),
    /** Refresh tokens this long before they expire (WxJava: 200 s; default 5 min). */
    refreshMarginMs: z.number().int().nonnegative().default(300_000),
    /** Messages per sync_msg call: 1–1000 (default and maximum 1000). */
    pageSize: z.number().int().min(1).max(1000).optional(),
    /** Voice messages as AMR (default) or SILK (`voice_format` 0 / 1). */
    voiceFormat: z.enum(['amr', 'silk']).default('amr'),
    timeouts: z
      .strictObject({
        connectMs: z.number().int().positive().default(10_000),
        requestMs: z.number().int().positive().default(30_000),
      })
      .default({ connectMs: 10_000, requestMs: 30_000 }),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).default(4),
        baseDelayMs: z.number().int().nonnegative().default(1_000),
        maxDelayMs: z.number().int().nonnegative().default(30_000),
      })
      .default({ maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000 }),
  })
  .refine((config) => new Set(config.accounts.map((a) => a.openKfId)).size === config.accounts.length, {
    message: 'each openKfId may appear only once in `accounts`',
    path: ['accounts'],
  });
/** The validated configuration. */
export type WecomKfConfig = z.output<typeof WecomKfConfigSchema>;
/** The configuration as written (defaults optional). */
export type WecomKfConfigInput = z.input<typeof WecomKfConfigSchema>;

/** Validates a configuration, failing with WECOM_CONFIG_INVALID naming every bad field. */
export function parseWecomKfConfig(input: unknown): WecomKfConfig {
  return parseConfig(WecomKfConfigSchema, input, 'wecom-kf config', (message, details) =>
    wecomKfError('WECOM_CONFIG_INVALID', message, { details }),
  );
}
