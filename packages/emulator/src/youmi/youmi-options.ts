import { z } from 'zod';
import { stableId } from '../seeded-random.js';
import { youmiEmulatorError } from './youmi-errors.js';

/** Options of the emulated Youmi platform (`EmulatorOptions.youmi`). */
export interface YoumiEmulatorOptions {
  /** Operating accounts: a count (ids 10001, 10002, …) or explicit ids. Default 2. */
  wechatIds?: number | number[];
  /** Fans per operating account. Default 50. */
  fansPerAccount?: number;
  /** Average chat records per fan (each fan gets 25 %–175 % of it). Default 40. */
  chatsPerFan?: number;
  /** Length of the history in days, ending at the clock's start. Default 30. */
  days?: number;
  /** Lifetime of v2 bearer tokens in seconds. Default 7200. */
  tokenLifetimeSeconds?: number;
  /** Lifetime of v1 access tokens in seconds. Default 7200. */
  v1TokenLifetimeSeconds?: number;
  /** Tenant ids accepted in the `TenantId` header (agents). Default: one derived from the seed. */
  tenantIds?: string[];
  /** OAuth2 client id. Default: derived from the seed. */
  clientId?: string;
  /** OAuth2 client secret. Default: derived from the seed. */
  clientSecret?: string;
  /** Largest page GetChat / list calls return; larger `pageSize` values are capped. Default 100. */
  maxPageSize?: number;
  /** Share of generated chats with a type code unknown to the docs (77777). Default 0.01. */
  unknownTypeRate?: number;
  /** Retries of a failed callback delivery. Default 4. */
  callbackRetries?: number;
  /** First retry delay of callback deliveries (doubles each time), ms. Default 100. */
  callbackRetryDelayMs?: number;
  /** Timeout of one callback delivery, ms. Default 5000. */
  callbackTimeoutMs?: number;
}

const positiveInt = z.int().positive();

const optionsSchema = z.strictObject({
  wechatIds: z.union([positiveInt.max(1000), z.array(positiveInt).min(1).max(1000)]).optional(),
  fansPerAccount: positiveInt.max(1_000_000).optional(),
  chatsPerFan: positiveInt.max(1_000_000).optional(),
  days: positiveInt.max(3650).optional(),
  tokenLifetimeSeconds: positiveInt.optional(),
  v1TokenLifetimeSeconds: positiveInt.optional(),
  tenantIds: z.array(z.string().min(1)).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(8).optional(),
  maxPageSize: positiveInt.max(10_000).optional(),
  unknownTypeRate: z.number().min(0).max(1).optional(),
  callbackRetries: z.int().min(0).max(20).optional(),
  callbackRetryDelayMs: z.int().min(0).max(60_000).optional(),
  callbackTimeoutMs: positiveInt.max(600_000).optional(),
});

/** Options with every default applied and every derived credential computed. */
export interface ResolvedYoumiOptions {
  seed: string;
  wechatIds: number[];
  fansPerAccount: number;
  chatsPerFan: number;
  days: number;
  tokenLifetimeSeconds: number;
  v1TokenLifetimeSeconds: number;
  tenantIds: string[];
  clientId: string;
  clientSecret: string;
  merchantId: string;
  v1AppId: string;
  v1AppKey: string;
  maxPageSize: number;
  unknownTypeRate: number;
  callbackRetries: number;
  callbackRetryDelayMs: number;
  callbackTimeoutMs: number;
}

/** Validates the options and applies defaults; credentials are pure functions of the seed. */
export function resolveYoumiOptions(seed: string | number, options: YoumiEmulatorOptions = {}): ResolvedYoumiOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `youmi.${issue.path.join('.')}` : 'youmi';
    throw youmiEmulatorError('EMULATOR_YOUMI_OPTIONS_INVALID', `${where}: ${issue?.message ?? 'invalid'}`, {
      details: { field: where },
    });
  }
  const o = parsed.data;
  const seedText = String(seed);
  const wechatIds = Array.isArray(o.wechatIds)
    ? o.wechatIds
    : Array.from({ length: o.wechatIds ?? 2 }, (_, index) => 10001 + index);
  if (new Set(wechatIds).size !== wechatIds.length) {
    throw youmiEmulatorError('EMULATOR_YOUMI_OPTIONS_INVALID', 'youmi.wechatIds: ids must be unique');
  }
  const days = o.days ?? 30;
  const chatsPerFan = o.chatsPerFan ?? 40;
  // Each fan's chats must fit one per second into its session slots (see youmi-data.ts).
  if (Math.ceil(chatsPerFan * 1.75) * 4 > days * 86_400) {
    throw youmiEmulatorError(
      'EMULATOR_YOUMI_OPTIONS_INVALID',
      `youmi.chatsPerFan: ${chatsPerFan} chats per fan do not fit into ${days} day(s); raise days or lower chatsPerFan`,
    );
  }
  return {
    seed: seedText,
    wechatIds,
    fansPerAccount: o.fansPerAccount ?? 50,
    chatsPerFan,
    days,
    tokenLifetimeSeconds: o.tokenLifetimeSeconds ?? 7200,
    v1TokenLifetimeSeconds: o.v1TokenLifetimeSeconds ?? 7200,
    tenantIds: o.tenantIds ?? [`T${stableId(10, seedText, 'youmi-tenant')}`],
    clientId: o.clientId ?? `ym_${stableId(16, seedText, 'youmi-client-id')}`,
    clientSecret: o.clientSecret ?? stableId(32, seedText, 'youmi-client-secret'),
    merchantId: `M${stableId(12, seedText, 'youmi-merchant')}`,
    v1AppId: `ymapp_${stableId(12, seedText, 'youmi-v1-app')}`,
    v1AppKey: stableId(32, seedText, 'youmi-v1-key'),
    maxPageSize: o.maxPageSize ?? 100,
    unknownTypeRate: o.unknownTypeRate ?? 0.01,
    callbackRetries: o.callbackRetries ?? 4,
    callbackRetryDelayMs: o.callbackRetryDelayMs ?? 100,
    callbackTimeoutMs: o.callbackTimeoutMs ?? 5000,
  };
}
