import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { isKefuError, registerSecret, type StoredToken, sleep, type TokenStore } from '@kefu/core';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { redisTokenStoreError } from './errors.js';
import {
  parseRedisTokenStoreConfig,
  parseRedisTokenStoreTuning,
  type RedisTokenStoreConfigInput,
} from './token-store-redis-config.js';

/** Options of {@link RedisTokenStore}: the config, or a client of your own instead of `url`. */
export type RedisTokenStoreOptions =
  | RedisTokenStoreConfigInput
  | (Omit<RedisTokenStoreConfigInput, 'url'> & {
      /** A connected ioredis client the store uses and never closes (its owner does). */
      client: Redis;
    });

// Compare-and-delete: delete the token only if it is still the one that failed, so a
// process holding a stale token never throws away the fresh one another process stored.
const INVALIDATE_IF_CURRENT = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;
// Lock renewal and release check the owner, so a holder whose lock expired (GC pause,
// partition) never extends or frees the lock another process has taken since.
const RENEW_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** A stored token outlives its expiry by a day, then Redis drops it (app ids that went away). */
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

const StoredHashSchema = z.object({ token: z.string().min(1), expiresAt: z.coerce.number().int() });

/** The locks the current async context holds, per store (makes withLock re-entrant). */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * A WeChat access-token store in Redis, shared by every kefu process on every host: one
 * hash per app id (`<keyPrefix><appId>`), compare-and-delete `invalidate` in one Lua
 * script, and a refresh lock (`<keyPrefix>lock:<appId>`, `SET NX PX`) renewed while its
 * holder works and released only by its owner, so one refresher in the fleet calls the
 * token endpoint (a refresh invalidates the previous token, API-NOTES). Tokens are
 * secrets: each one read or written is registered for redaction.
 *
 * @example
 * ```ts
 * const store = new RedisTokenStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'shop:kefu:token:' });
 * await store.set('wx123', { token: 'ACCESS_TOKEN', expiresAt: Date.now() + 7_200_000 });
 * await store.close();
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #lockTtlMs: number;
  readonly #lockTimeoutMs: number;
  /** Tells this store's locks apart from other stores' in {@link heldLocks}. */
  readonly #identity = randomUUID();
  // In-process queue first, so one process never polls Redis against itself.
  readonly #tails = new Map<string, Promise<unknown>>();
  #closed = false;

  /** A store on `options.url` (connected lazily, closed by {@link close}) or on `options.client`. */
  constructor(options: RedisTokenStoreOptions) {
    if ('client' in options) {
      const { client, ...tuning } = options;
      const config = parseRedisTokenStoreTuning(tuning);
      this.#prefix = config.keyPrefix;
      this.#lockTtlMs = config.lockTtlMs;
      this.#lockTimeoutMs = config.lockTimeoutMs;
      this.#ownsClient = false;
      this.#redis = client;
    } else {
      const config = parseRedisTokenStoreConfig(options);
      this.#prefix = config.keyPrefix;
      this.#lockTtlMs = config.lockTtlMs;
      this.#lockTimeoutMs = config.lockTimeoutMs;
      this.#ownsClient = true;
      registerSecret(new URL(config.url).password || undefined);
      this.#redis = new Redis(config.url, {
        lazyConnect: true,
        connectTimeout: config.connectTimeoutMs,
        // Fail a command after a few reconnects instead of queueing it forever.
        maxRetriesPerRequest: 3,
      });
      // Errors reach the pending command; without a listener ioredis also prints them.
      this.#redis.on('error', () => {});
    }
  }

  /** The stored token of `appId`, if any (expired ones too: the token manager checks). */
  async get(appId: string): Promise<StoredToken | undefined> {
    const key = this.#tokenKey(appId);
    const hash = await this.#command(`reading ${key}`, () => this.#redis.hgetall(key));
    if (Object.keys(hash).length === 0) return undefined;
    const parsed = StoredHashSchema.safeParse(hash);
    if (!parsed.success) {
      throw redisTokenStoreError('TOKEN_STORE_REDIS_INVALID_ENTRY', `${key} does not hold a kefu token`, {
        details: { key },
      });
    }
    registerSecret(parsed.data.token);
    return parsed.data;
  }

  /** Stores the token of `appId`; Redis drops it a day after it expires. */
  async set(appId: string, token: StoredToken): Promise<void> {
    registerSecret(token.token);
    const key = this.#tokenKey(appId);
    const keepMs = Math.max(token.expiresAt - Date.now(), 0) + KEEP_AFTER_EXPIRY_MS;
    await this.#command(`writing ${key}`, () =>
      this.#redis
        .multi()
        .del(key)
        .hset(key, { token: token.token, expiresAt: String(token.expiresAt) })
        .pexpire(key, keepMs)
        .exec(),
    );
  }

  /** Deletes the token of `appId` only if it is still `token` (atomic, in Lua); true when it deleted it. */
  async invalidate(appId: string, token: string): Promise<boolean> {
    const key = this.#tokenKey(appId);
    const deleted = await this.#command(`invalidating ${key}`, () =>
      this.#redis.eval(INVALIDATE_IF_CURRENT, 1, key, token),
    );
    return deleted === 1;
  }

  /**
   * Runs `fn` holding the fleet-wide refresh lock of `appId` (re-entrant). The lock is
   * renewed every third of `lockTtlMs` while `fn` runs and released by its owner only.
   */
  async withLock<T>(appId: string, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.#prefix}lock:${appId}`;
    const held = heldLocks.getStore();
    const mark = `${this.#identity}:${appId}`;
    if (held?.has(mark)) return fn();
    return this.#serialized(appId, async () => {
      const owner = randomUUID();
      await this.#acquire(lockKey, owner);
      const renewal = setInterval(
        () => {
          this.#redis.eval(RENEW_IF_OWNER, 1, lockKey, owner, String(this.#lockTtlMs)).catch(() => {});
        },
        Math.floor(this.#lockTtlMs / 3),
      );
      renewal.unref();
      try {
        return await heldLocks.run(new Set([...(held ?? []), mark]), fn);
      } finally {
        clearInterval(renewal);
        // A failed release only delays the next refresher by the lock's TTL.
        await this.#redis.eval(RELEASE_IF_OWNER, 1, lockKey, owner).catch(() => {});
      }
    });
  }

  /** Closes the connection the store opened (a client passed in stays open); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #tokenKey(appId: string): string {
    return `${this.#prefix}${appId}`;
  }

  async #acquire(lockKey: string, owner: string): Promise<void> {
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const taken = await this.#command(`locking ${lockKey}`, () =>
        this.#redis.set(lockKey, owner, 'PX', this.#lockTtlMs, 'NX'),
      );
      if (taken === 'OK') return;
      if (Date.now() >= deadline) {
        throw redisTokenStoreError(
          'TOKEN_STORE_REDIS_LOCK_TIMEOUT',
          `could not take ${lockKey} within ${this.#lockTimeoutMs} ms`,
          { details: { lockKey } },
        );
      }
      await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
    }
  }

  async #serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.#tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === current) this.#tails.delete(key);
    }
  }

  async #command<T>(doing: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw redisTokenStoreError('TOKEN_STORE_REDIS_CLOSED', `${doing}: the store was closed`);
    try {
      return await run();
    } catch (error) {
      throw toRedisTokenStoreError(error, doing);
    }
  }
}

/** Connection trouble is retryable (UNREACHABLE); a refusal by the server is not (FAILED). */
function toRedisTokenStoreError(error: unknown, doing: string) {
  if (isKefuError(error)) return error;
  const message = (error as Error).message ?? String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const lostConnection =
    (error as Error).name === 'MaxRetriesPerRequestError' ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Connection is closed|connect ETIMEDOUT/.test(
      `${code ?? ''} ${message}`,
    );
  return redisTokenStoreError(
    lostConnection ? 'TOKEN_STORE_REDIS_UNREACHABLE' : 'TOKEN_STORE_REDIS_FAILED',
    `${doing}: ${message}`,
    { cause: error },
  );
}
