import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { redactText } from './redaction.js';
import type { TokenStore } from './token-store.js';

/**
 * The behaviour every {@link TokenStore} must have, as plain async checks (node:assert)
 * so core needs no test runner: `describeTokenStore` in `@kefu/testkit` runs each one as a
 * vitest test. A check opens handles with `open()`; two handles stand for two processes
 * (or hosts) sharing the same backing storage.
 */

/** What a store author provides to the checks. */
export interface TokenStoreUnderTest {
  /** A new handle on the shared storage (a new process); may return the same object for in-process stores. */
  open(): TokenStore | Promise<TokenStore>;
  /** Whether handles from `open()` exclude each other in `withLock` (false for in-process-only stores: then one handle is used). */
  sharedAcrossHandles: boolean;
}

/** One conformance check. */
export interface TokenStoreCheck {
  /** Reads as a sentence: given / when / then. */
  name: string;
  run(subject: TokenStoreUnderTest): Promise<void>;
}

/** A fresh app id per check, so checks never see each other's tokens in a shared store. */
const freshAppId = () => `wx-conformance-${randomUUID()}`;
const freshToken = (label: string) => `${label}-${randomUUID()}`;

async function twoHandles(subject: TokenStoreUnderTest): Promise<[TokenStore, TokenStore]> {
  const first = await subject.open();
  return [first, subject.sharedAcrossHandles ? await subject.open() : first];
}

/** Yields to the event loop and to the store's I/O a few times, so overlaps can happen. */
async function pause(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The token-store conformance checks. */
export const tokenStoreChecks: readonly TokenStoreCheck[] = [
  {
    name: 'given an app id never stored, when reading it, then there is no token',
    async run(subject) {
      const store = await subject.open();
      assert.equal(await store.get(freshAppId()), undefined);
    },
  },
  {
    name: 'given a token set by one handle, when another reads it, then it gets the same token and expiry',
    async run(subject) {
      const [writer, reader] = await twoHandles(subject);
      const appId = freshAppId();
      const token = { token: freshToken('shared'), expiresAt: 1_800_000_000_123 };
      await writer.set(appId, token);
      assert.deepEqual(await reader.get(appId), token);
    },
  },
  {
    name: 'given a newer token, when invalidating the old one, then nothing is deleted (compare-and-delete)',
    async run(subject) {
      const [first, second] = await twoHandles(subject);
      const appId = freshAppId();
      const old = freshToken('old');
      const newer = freshToken('new');
      await first.set(appId, { token: old, expiresAt: 1 });
      await second.set(appId, { token: newer, expiresAt: 2 });
      assert.equal(await first.invalidate(appId, old), false);
      assert.equal((await second.get(appId))?.token, newer);
      assert.equal(await first.invalidate(appId, newer), true);
      assert.equal(await second.get(appId), undefined);
      assert.equal(await second.invalidate(appId, newer), false, 'a second invalidate finds nothing to delete');
    },
  },
  {
    name: 'given tokens of two app ids, when one is replaced and invalidated, then the other is untouched',
    async run(subject) {
      const store = await subject.open();
      const [a, b] = [freshAppId(), freshAppId()];
      const tokenB = { token: freshToken('b'), expiresAt: 2 };
      await store.set(a, { token: freshToken('a'), expiresAt: 1 });
      await store.set(b, tokenB);
      const replaced = freshToken('a2');
      await store.set(a, { token: replaced, expiresAt: 3 });
      await store.invalidate(a, replaced);
      assert.equal(await store.get(a), undefined);
      assert.deepEqual(await store.get(b), tokenB);
    },
  },
  {
    name: 'given a token read by a fresh handle, when it appears in a log line, then it is redacted',
    async run(subject) {
      const [writer, reader] = await twoHandles(subject);
      const appId = freshAppId();
      const token = freshToken('secret');
      await writer.set(appId, { token, expiresAt: 1 });
      await reader.get(appId);
      assert.ok(
        !redactText(`calling with access_token ${token}`).includes(token),
        'the token was not registered as a secret',
      );
    },
  },
  {
    name: 'given refreshers on several handles, when they all take the lock of one app id, then they never overlap',
    async run(subject) {
      const first = await subject.open();
      if (!first.withLock) return;
      const handles = [first, ...(subject.sharedAcrossHandles ? [await subject.open(), await subject.open()] : [])];
      const appId = freshAppId();
      let inside = 0;
      let maxInside = 0;
      let refreshes = 0;
      await Promise.all(
        handles.flatMap((store) =>
          [0, 1, 2].map(() =>
            (store.withLock as NonNullable<TokenStore['withLock']>).call(store, appId, async () => {
              inside += 1;
              maxInside = Math.max(maxInside, inside);
              // The token manager's pattern: re-read under the lock, refresh only when missing.
              if (!(await store.get(appId))) {
                refreshes += 1;
                await pause();
                await store.set(appId, { token: freshToken('refreshed'), expiresAt: 1 });
              }
              inside -= 1;
            }),
          ),
        ),
      );
      assert.equal(maxInside, 1, 'two holders of the lock ran at once');
      assert.equal(refreshes, 1, 'the token was refreshed more than once');
    },
  },
  {
    name: 'given the lock held, when set and invalidate run inside it, then they complete (re-entrant) and the result is returned',
    async run(subject) {
      const store = await subject.open();
      if (!store.withLock) return;
      const appId = freshAppId();
      const token = freshToken('inside');
      const result = await store.withLock(appId, async () => {
        await store.set(appId, { token, expiresAt: 1 });
        return store.invalidate(appId, token);
      });
      assert.equal(result, true);
    },
  },
  {
    name: 'given work that throws under the lock, when it fails, then the error reaches the caller and the lock is free again',
    async run(subject) {
      const store = await subject.open();
      if (!store.withLock) return;
      const appId = freshAppId();
      const failure = new Error('refresh failed');
      await assert.rejects(
        store.withLock(appId, async () => {
          throw failure;
        }),
        (error) => error === failure,
      );
      assert.equal(await store.withLock(appId, async () => 'again'), 'again');
    },
  },
];
