import { createHash } from 'node:crypto';
import {
  AccessTokenManager,
  type HttpClient,
  type KefuLogger,
  registerSecret,
  type StoredToken,
  silentLogger,
  type TokenStore,
} from '@kefu/core';
import { decodePlatformResponse } from './platform-response.js';
import { AccessTokenResponseSchema } from './wecom-kf-schemas.js';

/** Options of {@link WecomTokenManager}. */
export interface WecomTokenManagerOptions {
  corpId: string;
  secret: string;
  http: HttpClient;
  store: TokenStore;
  /** Refresh this long before expiry (default 5 min). */
  refreshMarginMs?: number;
  now?: () => number;
  logger?: KefuLogger;
}

/**
 * The store key of a WeCom app's token: tokens are per app (doc 91039), so the key holds the
 * corp id and a digest of the secret — two apps of one corp never share a token (the
 * silenceper key without the secret collides), and the secret never appears in the key.
 */
export function wecomTokenKey(corpId: string, secret: string): string {
  return `wecom:${corpId}:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}

/**
 * Hands out the access token of one WeCom app: `GET /cgi-bin/gettoken?corpid&corpsecret`
 * (doc 91039) behind core's {@link AccessTokenManager} — single-flight, early refresh, the
 * shared token store, compare-and-invalidate when a call answers 40001/40014/42001. WeCom
 * "may invalidate the token early" and older doc copies promise the same token on repeated
 * calls (A8, absent from the 2024 copy): neither is relied on, a refused token is never
 * handed out again.
 */
export class WecomTokenManager {
  readonly corpId: string;
  readonly #secret: string;
  readonly #http: HttpClient;
  readonly #now: () => number;
  readonly #logger: KefuLogger;
  readonly #tokens: AccessTokenManager;

  /** A manager for the app of `options.secret`. */
  constructor(options: WecomTokenManagerOptions) {
    registerSecret(options.secret);
    this.corpId = options.corpId;
    this.#secret = options.secret;
    this.#http = options.http;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#tokens = new AccessTokenManager({
      key: wecomTokenKey(options.corpId, options.secret),
      store: options.store,
      fetchToken: (_force, signal) => this.#fetch(signal),
      refreshMarginMs: options.refreshMarginMs ?? 300_000,
      now: this.#now,
      logger: this.#logger,
    });
  }

  /** gettoken calls made so far (for metrics and tests). */
  get refreshCount(): number {
    return this.#tokens.refreshCount;
  }

  /** A valid access token, from the store or freshly fetched. */
  getToken(signal?: AbortSignal): Promise<string> {
    return this.#tokens.getToken(signal);
  }

  /** Reports that `token` was refused: deleted from the store only if it is still the stored one. */
  invalidate(token: string): Promise<void> {
    return this.#tokens.invalidate(token);
  }

  async #fetch(signal: AbortSignal | undefined): Promise<StoredToken> {
    const startedAt = this.#now();
    const response = await this.#http.request({
      method: 'GET',
      path: '/cgi-bin/gettoken',
      query: { corpid: this.corpId, corpsecret: this.#secret },
      retry: false,
      ...(signal ? { signal } : {}),
    });
    const result = decodePlatformResponse(response, AccessTokenResponseSchema, {
      call: 'gettoken',
      corpId: this.corpId,
    });
    if (!result.ok) throw result.error;
    registerSecret(result.value.access_token);
    this.#logger.info('access token refreshed', { corpId: this.corpId });
    return { token: result.value.access_token, expiresAt: startedAt + result.value.expires_in * 1000 };
  }
}
