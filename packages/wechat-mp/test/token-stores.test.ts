import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfiguredTokenStore, FileTokenStore, isKefuError, MemoryTokenStore } from '@kefu/core';
import { describeTokenStore } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as wechatMpStores from '../src/token-stores.js';

// The stores live in @kefu/core (shared with the other providers); these tests stay here
// because the conformance runner (`describeTokenStore`) is in the testkit, which depends on core.

const APP = 'wx-store-test';

describe('MemoryTokenStore', () => {
  it('invalidates only the token that failed (compare-and-delete)', async () => {
    const store = new MemoryTokenStore();
    await store.set(APP, { token: 'token-new-1234', expiresAt: 1 });
    expect(await store.invalidate(APP, 'token-old-1234')).toBe(false);
    expect((await store.get(APP))?.token).toBe('token-new-1234');
    expect(await store.invalidate(APP, 'token-new-1234')).toBe(true);
    expect(await store.get(APP)).toBeUndefined();
  });

  it('runs locked work for one app id one at a time', async () => {
    const store = new MemoryTokenStore();
    const events: string[] = [];
    const work = (name: string) =>
      store.withLock(APP, async () => {
        events.push(`${name}:start`);
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`${name}:end`);
      });
    await Promise.all([work('a'), work('b')]);
    expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
  });
});

describe('FileTokenStore', () => {
  it('is the store of @kefu/core, re-exported under the same name by wechat-mp', () => {
    expect(wechatMpStores.FileTokenStore).toBe(FileTokenStore);
    expect(wechatMpStores.MemoryTokenStore).toBe(MemoryTokenStore);
  });

  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kefu-token-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the token file with mode 0600 and shares tokens between instances', async () => {
    const path = join(dir, 'nested', 'tokens.json');
    const first = new FileTokenStore({ path });
    const second = new FileTokenStore({ path });
    await first.set(APP, { token: 'shared-token-1', expiresAt: 42 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await second.get(APP)).toEqual({ token: 'shared-token-1', expiresAt: 42 });
  });

  it('invalidates only the token that failed, across instances', async () => {
    const path = join(dir, 'tokens.json');
    const first = new FileTokenStore({ path });
    const second = new FileTokenStore({ path });
    await first.set(APP, { token: 'old-token-1', expiresAt: 1 });
    await second.set(APP, { token: 'new-token-2', expiresAt: 2 });
    expect(await first.invalidate(APP, 'old-token-1')).toBe(false);
    expect((await second.get(APP))?.token).toBe('new-token-2');
    expect(await first.invalidate(APP, 'new-token-2')).toBe(true);
    expect(await second.get(APP)).toBeUndefined();
  });

  it('keeps other app ids when one is written', async () => {
    const path = join(dir, 'tokens.json');
    const store = new FileTokenStore({ path });
    await store.set('wx-a', { token: 'token-aaaa', expiresAt: 1 });
    await store.set('wx-b', { token: 'token-bbbb', expiresAt: 2 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      'wx-a': { token: 'token-aaaa', expiresAt: 1 },
      'wx-b': { token: 'token-bbbb', expiresAt: 2 },
    });
  });

  it('serializes locked work of two instances (two processes on one host) through the lock file', async () => {
    const path = join(dir, 'tokens.json');
    const stores = [new FileTokenStore({ path }), new FileTokenStore({ path })];
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      stores.flatMap((store, n) =>
        [0, 1, 2].map((i) =>
          store.withLock(APP, async () => {
            inside += 1;
            maxInside = Math.max(maxInside, inside);
            await new Promise((resolve) => setTimeout(resolve, 5));
            await store.set(APP, { token: `token-${n}-${i}`, expiresAt: i });
            inside -= 1;
          }),
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect((await stores[0]?.get(APP))?.token).toMatch(/^token-\d-\d$/);
  });

  it('breaks a lock left by a dead process', async () => {
    const path = join(dir, 'tokens.json');
    // A pid far above pid_max cannot be alive.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 2 ** 30, at: 0 }));
    const store = new FileTokenStore({ path, lockTimeoutMs: 2_000 });
    await store.set(APP, { token: 'after-stale-lock', expiresAt: 1 });
    expect((await store.get(APP))?.token).toBe('after-stale-lock');
  });

  it('breaks a lock older than staleLockMs even when its pid is alive', async () => {
    const path = join(dir, 'tokens.json');
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.ppid, at: 0 }));
    const old = new Date(Date.now() - 120_000);
    await utimes(`${path}.lock`, old, old);
    const store = new FileTokenStore({ path, staleLockMs: 60_000, lockTimeoutMs: 2_000 });
    await store.set(APP, { token: 'after-old-lock', expiresAt: 1 });
    expect((await store.get(APP))?.token).toBe('after-old-lock');
  });

  it('fails with KEFU_TOKEN_LOCK_TIMEOUT when a live process holds the lock', async () => {
    const path = join(dir, 'tokens.json');
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.ppid, at: Date.now() }));
    const store = new FileTokenStore({ path, lockTimeoutMs: 100 });
    const error = await store.set(APP, { token: 'never-written', expiresAt: 1 }).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_TOKEN_LOCK_TIMEOUT');
  });

  it('fails with KEFU_TOKEN_STORE_FAILED when the token file cannot be read', async () => {
    // A directory where the file should be: reading it fails with EISDIR.
    const store = new FileTokenStore({ path: dir });
    const error = await store.get(APP).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_TOKEN_STORE_FAILED');
  });

  it('is what a `tokenStore` config block asks for, a relative path resolved against baseDir', () => {
    expect(createConfiguredTokenStore({ type: 'memory' })).toBeInstanceOf(MemoryTokenStore);
    const store = createConfiguredTokenStore({ type: 'file', path: 'tokens.json' }, dir);
    expect(store instanceof FileTokenStore && store.path).toBe(join(dir, 'tokens.json'));
  });

  it('treats a corrupt token file as empty', async () => {
    const path = join(dir, 'tokens.json');
    await writeFile(path, '{not json');
    expect(await new FileTokenStore({ path }).get(APP)).toBeUndefined();
  });
});

describeTokenStore('MemoryTokenStore', async () => {
  const store = new MemoryTokenStore();
  return { open: () => store, sharedAcrossHandles: false };
});

describeTokenStore('FileTokenStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kefu-token-conformance-'));
  const path = join(dir, 'tokens.json');
  return {
    // Each handle is a separate FileTokenStore on one file: two processes on one host.
    open: () => new FileTokenStore({ path }),
    sharedAcrossHandles: true,
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
});
