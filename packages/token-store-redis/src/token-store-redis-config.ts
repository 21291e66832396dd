import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { redisTokenStoreError } from './errors.js';

/** Configuration of {@link RedisTokenStore} (also what `redisTokenStoreModule` takes). */
export const RedisTokenStoreConfigSchema = z.strictObject({
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: z.string().refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
    message: 'must be a redis:// or rediss:// URL',
  }),
  /** Every key the store writes starts with this (default `kefu:token:`); give each kefu deployment its own. */
  keyPrefix: z.string().min(1).max(200).default('kefu:token:'),
  /**
   * How long a refresh lock lives without renewal, in ms (default 30000). The holder
   * renews it every third of this; a crashed holder's lock expires after it.
   */
  lockTtlMs: z.number().int().min(1_000).max(600_000).default(30_000),
  /** How long `withLock` waits for another holder before TOKEN_STORE_REDIS_LOCK_TIMEOUT, in ms (default 60000). */
  lockTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** How long a command may wait for a connection, in ms (default 5000). */
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
});
/** The Redis token store configuration as written (defaults optional). */
export type RedisTokenStoreConfigInput = z.input<typeof RedisTokenStoreConfigSchema>;
/** The validated Redis token store configuration (defaults applied). */
export type RedisTokenStoreConfig = z.output<typeof RedisTokenStoreConfigSchema>;

/** Validates a Redis token store configuration, throwing TOKEN_STORE_REDIS_CONFIG_INVALID naming the field. */
export function parseRedisTokenStoreConfig(input: unknown): RedisTokenStoreConfig {
  return parseConfig(RedisTokenStoreConfigSchema, input, 'redis token store config', (message, details) =>
    redisTokenStoreError('TOKEN_STORE_REDIS_CONFIG_INVALID', message, { details }),
  );
}

/** The settings of a store given a client of its own: everything but `url`. */
export const RedisTokenStoreTuningSchema = RedisTokenStoreConfigSchema.omit({ url: true });

/** Validates the settings of a store given a client (no `url`), throwing TOKEN_STORE_REDIS_CONFIG_INVALID. */
export function parseRedisTokenStoreTuning(input: unknown): z.output<typeof RedisTokenStoreTuningSchema> {
  return parseConfig(RedisTokenStoreTuningSchema, input, 'redis token store options', (message, details) =>
    redisTokenStoreError('TOKEN_STORE_REDIS_CONFIG_INVALID', message, { details }),
  );
}
