import { randomUUID } from 'node:crypto';
import { createKefu, redactText, TOKENS } from '@kefu/core';
import { describeTokenStore, kefuFailure as failure, integrationServer } from '@kefu/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisTokenStore, redisTokenStoreModule } from '../src/index.js';

const redis = await integrationServer('redis');
/** Every key of this run starts with it: tests of other runs on the same server never meet. */
const runPrefix = `kefu-test:${randomUUID()}:`;
let prefixes = 0;
const freshPrefix = () => `${runPrefix}${++prefixes}:`;

describe.skipIf(!redis.available)('RedisTokenStore on Redis', () => {
  const admin = redis.available ? new Redis(redis.url) : undefined;
  const opened: RedisTokenStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof RedisTokenStore>[0]> & { keyPrefix: string }) => {
    const store = new RedisTokenStore({ url: redis.url, ...options });
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
    const keys = (await admin?.keys(`${runPrefix}*`)) ?? [];
    if (keys.length > 0) await admin?.del(...keys);
    await admin?.quit();
  });

  // Each handle is its own connection: a process of its own, on any host.
  describeTokenStore('RedisTokenStore', async () => {
    const keyPrefix = freshPrefix();
    return { open: () => open({ keyPrefix }), sharedAcrossHandles: true };
  });

  it('given a lock left by a crashed holder, when another process takes it, then it gets it once the lock TTL ran out', async () => {
    const keyPrefix = freshPrefix();
    await admin?.set(`${keyPrefix}lock:wx-crashed`, 'dead-owner', 'PX', 1_000);
    const store = open({ keyPrefix, lockTtlMs: 1_000, lockTimeoutMs: 10_000 });
    const started = Date.now();
    expect(await store.withLock('wx-crashed', async () => 'refreshed')).toBe('refreshed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(await admin?.exists(`${keyPrefix}lock:wx-crashed`)).toBe(0);
  });

  it('given a live holder, when another process waits longer than lockTimeoutMs, then TOKEN_STORE_REDIS_LOCK_TIMEOUT (retryable)', async () => {
    const keyPrefix = freshPrefix();
    const holder = open({ keyPrefix });
    const waiter = open({ keyPrefix, lockTimeoutMs: 200 });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holding = holder.withLock('wx-busy', async () => {
      entered();
      await held;
    });
    await inside;
    const error = await failure(waiter.withLock('wx-busy', async () => 'never'));
    release();
    await holding;
    expect(error.code).toBe('TOKEN_STORE_REDIS_LOCK_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(await waiter.withLock('wx-busy', async () => 'after release')).toBe('after release');
  });

  it('given work longer than the lock TTL, when it runs, then its holder renews the lock and nobody else gets in', async () => {
    const keyPrefix = freshPrefix();
    const holder = open({ keyPrefix, lockTtlMs: 1_000 });
    const other = open({ keyPrefix, lockTtlMs: 1_000, lockTimeoutMs: 10_000 });
    const order: string[] = [];
    let otherStarted = () => {};
    const otherWaiting = new Promise<void>((resolve) => {
      otherStarted = resolve;
    });
    const slow = holder.withLock('wx-slow', async () => {
      order.push('holder in');
      otherStarted();
      // Work that outlives the TTL 2.5 times over: only renewal keeps the lock.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      order.push('holder out');
    });
    await otherWaiting;
    await other.withLock('wx-slow', async () => {
      order.push('other in');
    });
    await slow;
    expect(order).toEqual(['holder in', 'holder out', 'other in']);
  });

  it('given a foreign value under the prefix, when reading it, then TOKEN_STORE_REDIS_INVALID_ENTRY names the key', async () => {
    const keyPrefix = freshPrefix();
    await admin?.hset(`${keyPrefix}wx-foreign`, { something: 'else' });
    const error = await failure(open({ keyPrefix }).get('wx-foreign'));
    expect(error.code).toBe('TOKEN_STORE_REDIS_INVALID_ENTRY');
    expect(error.message).toContain(`${keyPrefix}wx-foreign`);
  });

  it('given redisTokenStoreModule, when a runtime closes, then the store it bound is closed with it', async () => {
    const kefu = await createKefu({
      logger: { level: 'error' },
      modules: [redisTokenStoreModule({ url: redis.url, keyPrefix: freshPrefix() })],
    });
    const store = kefu.container.get<RedisTokenStore>(TOKENS.TokenStore);
    expect(store).toBeInstanceOf(RedisTokenStore);
    await store.set('wx-di', { token: `di-${randomUUID()}`, expiresAt: Date.now() + 60_000 });
    await kefu.close();
    expect((await failure(store.get('wx-di'))).code).toBe('TOKEN_STORE_REDIS_CLOSED');
  });
});

describe('RedisTokenStore without a server', () => {
  it('given nothing listening, when reading, then TOKEN_STORE_REDIS_UNREACHABLE without the password', async () => {
    const store = new RedisTokenStore({ url: 'redis://:hunter2-secret@127.0.0.1:1', connectTimeoutMs: 200 });
    try {
      const error = await failure(store.get('wx-nowhere'));
      expect(error.code).toBe('TOKEN_STORE_REDIS_UNREACHABLE');
      expect(error.retryable).toBe(true);
      expect(redactText(`${error.message} redis://:hunter2-secret@127.0.0.1:1`)).not.toContain('hunter2-secret');
    } finally {
      await store.close();
    }
  });

  it('given a bad url or an unknown key, then TOKEN_STORE_REDIS_CONFIG_INVALID names the field', async () => {
    const badUrl = await failure((async () => new RedisTokenStore({ url: 'http://127.0.0.1:6379' }))());
    expect(badUrl.code).toBe('TOKEN_STORE_REDIS_CONFIG_INVALID');
    expect(badUrl.message).toContain('url');
    const typo = await failure(
      (async () => redisTokenStoreModule({ url: 'redis://127.0.0.1:6379', keyPrefx: 'x' } as never))(),
    );
    expect(typo.code).toBe('TOKEN_STORE_REDIS_CONFIG_INVALID');
    expect(typo.message).toContain('keyPrefx');
  });
});
