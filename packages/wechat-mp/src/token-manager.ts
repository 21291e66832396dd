import { AccessTokenManager, type HttpClient, type KefuLogger, registerSecret, silentLogger } from '@kefu/core';
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

/**
 * Hands out access tokens for one app id: core's {@link AccessTokenManager} (refreshes early,
 * single-flight per app id in-process and across processes through the store's lock, and
 * compare-and-invalidate on 40001/40014/42001, API-NOTES "Access token") over WeChat's
 * `stable_token` or `token` endpoint. Never logs the secret or a token.
 */
export class TokenManager {
  readonly appId: string;
  readonly #secret: string;
  readonly #http: HttpClient;
  readonly #endpoint: TokenEndpoint;
  readonly #now: () => number;
  readonly #logger: KefuLogger;
  readonly #tokens: AccessTokenManager;

  /** A manager for `options.appId`. */
  constructor(options: TokenManagerOptions) {
    registerSecret(options.secret);
    this.appId = options.appId;
    this.#secret = options.secret;
    this.#http = options.http;
    this.#endpoint = options.endpoint ?? 'stable';
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#tokens = new AccessTokenManager({
      key: options.appId,
      store: options.store,
      // The stable endpoint returns the same token until near expiry: a refused one needs force_refresh.
      fetchToken: (force, signal) => this.#fetch(force, signal),
      refreshMarginMs: options.refreshMarginMs ?? 300_000,
      now: this.#now,
      logger: this.#logger,
    });
  }

  /** Token-endpoint calls made by this manager (for metrics and tests). */
  get refreshCount(): number {
    return this.#tokens.refreshCount;
  }

  /** A valid access token, from the store or freshly fetched. */
  getToken(signal?: AbortSignal): Promise<string> {
    return this.#tokens.getToken(signal);
  }

  /**
   * Reports that `token` was refused (40001/40014/42001): deletes it from the store only if
   * it is still the stored one, so a token another process just fetched survives.
   */
  invalidate(token: string): Promise<void> {
    return this.#tokens.invalidate(token);
  }

  async #fetch(forceRefresh: boolean, signal: AbortSignal | undefined): Promise<StoredToken> {
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
