import { type HttpClient, type KefuLogger, registerSecret, silentLogger } from '@kefu/core';
import { decodePlatformResponse } from './platform-response.js';
import type { StoredToken, TokenStore } from './token-stores.js';
import { AccessTokenResponseSchema } from './wechat-mp-schemas.js';

/** Which endpoint issues tokens: `stable` (`/cgi-bin/stable_token`, default) or `classic` (`/cgi-bin/token`). */
export type TokenEndpoint = 'stable' | 'classic';

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  appId: string;
  secret: string;
  http: HttpClient;
  store: TokenStore;
  endpoint?: TokenEndpoint;
  /** Refresh this long before expiry (default 5 min: the stable endpoint's overlap). */
  refreshMarginMs?: number;
  now?: () => number;
  logger?: KefuLogger;
}

/** In-flight refreshes per store and app id: single-flight across managers of one process. */
const inflight = new WeakMap<TokenStore, Map<string, Promise<StoredToken>>>();

/**
 * Hands out access tokens for one app id: refreshes early, single-flight per app id
 * (in-process map + the store's lock across processes), and on 40001/40014/42001
 * invalidates the stored token only if it is the one that failed (API-NOTES "Access token").
 * Never logs the secret or a token: both are registered as secrets.
 */
export class TokenManager {
  readonly appId: string;
  readonly #secret: string;
  readonly #http: HttpClient;
  readonly #store: TokenStore;
  readonly #endpoint: TokenEndpoint;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #logger: KefuLogger;
  /** Tokens that failed with a token errcode: the stable endpoint may hand one back, then we force. */
  readonly #rejected = new Set<string>();
  #refreshCount = 0;

  /** A manager for `options.appId`. */
  constructor(options: TokenManagerOptions) {
    registerSecret(options.secret);
    this.appId = options.appId;
    this.#secret = options.secret;
    this.#http = options.http;
    this.#store = options.store;
    this.#endpoint = options.endpoint ?? 'stable';
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
    const stored = await this.#store.get(this.appId);
    if (stored && this.#isFresh(stored)) return stored.token;
    return (await this.#refreshSingleFlight(signal)).token;
  }

  /**
   * Reports that `token` was refused (40001/40014/42001): deletes it from the store only if
   * it is still the stored one, so a token another process just fetched survives.
   */
  async invalidate(token: string): Promise<void> {
    this.#rejected.add(token);
    // Only recent refusals matter (the stable endpoint re-serving one); keep the set small.
    if (this.#rejected.size > 16) this.#rejected.delete(this.#rejected.values().next().value as string);
    const deleted = await this.#store.invalidate(this.appId, token);
    this.#logger.debug('access token refused', { appId: this.appId, deleted });
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
    const running = perStore.get(this.appId);
    if (running) return running;
    const refresh = this.#refreshLocked(signal).finally(() => perStore.delete(this.appId));
    perStore.set(this.appId, refresh);
    return refresh;
  }

  async #refreshLocked(signal: AbortSignal | undefined): Promise<StoredToken> {
    const work = async () => {
      // Another process may have refreshed while we waited for the lock.
      const stored = await this.#store.get(this.appId);
      if (stored && this.#isFresh(stored)) return stored;
      let fetched = await this.#fetch(false, signal);
      if (this.#rejected.has(fetched.token)) {
        // The stable endpoint returns the same token until near expiry; this one was refused.
        fetched = await this.#fetch(true, signal);
      }
      await this.#store.set(this.appId, fetched);
      return fetched;
    };
    return this.#store.withLock ? this.#store.withLock(this.appId, work) : work();
  }

  async #fetch(forceRefresh: boolean, signal: AbortSignal | undefined): Promise<StoredToken> {
    this.#refreshCount += 1;
    const startedAt = this.#now();
    const response =
      this.#endpoint === 'stable'
        ? await this.#http.request({
            method: 'POST',
            path: '/cgi-bin/stable_token',
            json: {
              grant_type: 'client_credential',
              appid: this.appId,
              secret: this.#secret,
              ...(forceRefresh ? { force_refresh: true } : {}),
            },
            retry: false,
            ...(signal ? { signal } : {}),
          })
        : await this.#http.request({
            method: 'GET',
            path: '/cgi-bin/token',
            query: { grant_type: 'client_credential', appid: this.appId, secret: this.#secret },
            retry: false,
            ...(signal ? { signal } : {}),
          });
    const result = decodePlatformResponse(response, AccessTokenResponseSchema, {
      call: this.#endpoint === 'stable' ? 'stable_token' : 'token',
      appId: this.appId,
      now: this.#now(),
    });
    if (!result.ok) throw result.error;
    registerSecret(result.value.access_token);
    this.#logger.info('access token refreshed', { appId: this.appId, endpoint: this.#endpoint, forceRefresh });
    return { token: result.value.access_token, expiresAt: startedAt + result.value.expires_in * 1000 };
  }
}
