import { KeyedLock } from './keyed-lock.js';
import { type KefuLogger, silentLogger } from './logger.js';
import { registerSecret } from './redaction.js';
import type { StoredToken, TokenStore } from './token-store.js';

/**
 * The access-token manager every platform whose token endpoint must be called sparingly
 * shares (WeChat `stable_token`, WeCom `gettoken`): tokens come from the {@link TokenStore},
 * are refreshed early and single-flight (one in-process refresh per store and key, and the
 * store's lock across processes), and a refused token is invalidated compare-and-delete, so
 * a token another process stored meanwhile survives. Only the call to the token endpoint is
 * the platform's: {@link AccessTokenManagerOptions.fetchToken}.
 */

/** Options of {@link AccessTokenManager}. */
export interface AccessTokenManagerOptions {
  /** The store key: names one token (`wx123` for WeChat; corp id + app for WeCom). */
  key: string;
  store: TokenStore;
  /**
   * Calls the platform's token endpoint. `force` is true when the endpoint handed back a
   * token that was refused before (WeChat's stable endpoint re-serves one until near expiry).
   */
  fetchToken: (force: boolean, signal: AbortSignal | undefined) => Promise<StoredToken>;
  /** Refresh this long before expiry (default 5 min). */
  refreshMarginMs?: number;
  now?: () => number;
  logger?: KefuLogger;
}

/** In-flight refreshes per store and key: single-flight across managers of one process. */
const inflight = new WeakMap<TokenStore, Map<string, Promise<StoredToken>>>();

/** A store without a lock of its own gets this process-wide one (one refresher per key in this process). */
const fallbackLock = new KeyedLock();

/** Hands out the access token of one key (see the module comment). Never logs a token. */
export class AccessTokenManager {
  /** The store key of this manager's token. */
  readonly key: string;
  readonly #store: TokenStore;
  readonly #fetchToken: AccessTokenManagerOptions['fetchToken'];
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #logger: KefuLogger;
  /** Tokens the platform refused: never handed out again, even if a store or the endpoint returns one. */
  readonly #rejected = new Set<string>();
  #refreshCount = 0;

  /** A manager for `options.key`. */
  constructor(options: AccessTokenManagerOptions) {
    this.key = options.key;
    this.#store = options.store;
    this.#fetchToken = options.fetchToken;
    this.#marginMs = options.refreshMarginMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Token-endpoint calls made by this manager (for metrics and tests). */
  get refreshCount(): number {
    return this.#refreshCount;
  }

  /** A valid access token, from the store or freshly fetched. */
  async getToken(signal?: AbortSignal): Promise<string> {
    const stored = await this.#store.get(this.key);
    if (stored && this.#isFresh(stored)) return stored.token;
    return (await this.#refreshSingleFlight(signal)).token;
  }

  /**
   * Reports that `token` was refused by the platform: deletes it from the store only if it
   * is still the stored one, so a token another process just fetched survives.
   */
  async invalidate(token: string): Promise<void> {
    this.#rejected.add(token);
    // Only recent refusals matter; keep the set small.
    if (this.#rejected.size > 16) this.#rejected.delete(this.#rejected.values().next().value as string);
    const deleted = await this.#store.invalidate(this.key, token);
    this.#logger.debug('access token refused', { key: this.key, deleted });
  }

  #isFresh(token: StoredToken): boolean {
    return token.expiresAt - this.#marginMs > this.#now() && !this.#rejected.has(token.token);
  }

  #refreshSingleFlight(signal: AbortSignal | undefined): Promise<StoredToken> {
    let perStore = inflight.get(this.#store);
    if (!perStore) {
      perStore = new Map();
      inflight.set(this.#store, perStore);
    }
    const running = perStore.get(this.key);
    if (running) return running;
    const refresh = this.#refreshLocked(signal).finally(() => perStore.delete(this.key));
    perStore.set(this.key, refresh);
    return refresh;
  }

  async #refreshLocked(signal: AbortSignal | undefined): Promise<StoredToken> {
    const work = async () => {
      // Another process may have refreshed while we waited for the lock.
      const stored = await this.#store.get(this.key);
      if (stored && this.#isFresh(stored)) return stored;
      let fetched = await this.#fetch(false, signal);
      if (this.#rejected.has(fetched.token)) {
        fetched = await this.#fetch(true, signal);
        // Handed back even when forced: the platform says it is current (WeCom gettoken re-serves a valid token).
        this.#rejected.delete(fetched.token);
      }
      await this.#store.set(this.key, fetched);
      return fetched;
    };
    return this.#store.withLock ? this.#store.withLock(this.key, work) : fallbackLock.run(this.key, work);
  }

  async #fetch(force: boolean, signal: AbortSignal | undefined): Promise<StoredToken> {
    this.#refreshCount += 1;
    const token = await this.#fetchToken(force, signal);
    registerSecret(token.token);
    this.#logger.debug('access token fetched', { key: this.key, force });
    return token;
  }
}

/** What {@link callWithAccessToken} needs of a token manager. */
export interface AccessTokenSource {
  getToken(signal?: AbortSignal): Promise<string>;
  invalidate(token: string): Promise<void>;
}

/**
 * Sends a call with the current access token; when the answer says the token was refused,
 * invalidates that token (compare-and-invalidate: one another process stored meanwhile
 * survives) and sends once more with a fresh one. A token refused twice is invalidated too,
 * and the second answer is returned: the caller decides what it means.
 */
export async function callWithAccessToken<R>(
  tokens: AccessTokenSource,
  send: (token: string) => Promise<R>,
  isTokenRefused: (answer: R) => boolean,
  signal?: AbortSignal,
): Promise<R> {
  const token = await tokens.getToken(signal);
  const answer = await send(token);
  if (!isTokenRefused(answer)) return answer;
  await tokens.invalidate(token);
  const fresh = await tokens.getToken(signal);
  const second = await send(fresh);
  if (isTokenRefused(second)) await tokens.invalidate(fresh);
  return second;
}

/** Keeps tokens in this process's memory (the default store: one process per token). */
export class MemoryTokenStore implements TokenStore {
  readonly #tokens = new Map<string, StoredToken>();
  readonly #mutex = new KeyedLock();

  /** The stored token of `key`. */
  async get(key: string): Promise<StoredToken | undefined> {
    return this.#tokens.get(key);
  }

  /** Stores the token of `key`. */
  async set(key: string, token: StoredToken): Promise<void> {
    registerSecret(token.token);
    this.#tokens.set(key, token);
  }

  /** Compare-and-delete. */
  async invalidate(key: string, token: string): Promise<boolean> {
    if (this.#tokens.get(key)?.token !== token) return false;
    this.#tokens.delete(key);
    return true;
  }

  /** Serializes refreshes of one key in this process. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(key, fn);
  }
}
