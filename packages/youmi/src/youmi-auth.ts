import { createHmac, randomBytes } from 'node:crypto';
import { type HttpClient, isKefuError, type KefuLogger, registerSecret } from '@kefu/core';
import { z } from 'zod';
import { youmiError } from './errors.js';
import { YoumiTokenResponseSchema, YoumiV1EnvelopeSchema } from './youmi-schemas.js';

/**
 * Authentication of Youmi requests, behind one interface for both API generations:
 * v2 sends `Authorization: Bearer <token>` (OAuth2 client credentials, API-NOTES), v1
 * sends `access_token`, `Nonce`, `Timestamp` and an HMAC-SHA1 `Signature`.
 */

/** Headers for one request plus the token they carry (to invalidate it if refused). */
export interface AuthorizedHeaders {
  headers: Record<string, string>;
  token: string;
}

/** What the client asks of an authentication scheme. */
export interface YoumiAuthenticator {
  /** Headers authenticating one request; fetches a token when none is valid. */
  authorize(signal?: AbortSignal): Promise<AuthorizedHeaders>;
  /** The API refused `token`: forget it unless a newer one already replaced it. */
  invalidate(token: string): void;
}

/** A token with its expiry (ms since epoch). */
export interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * Caches one token, refreshes it `marginMs` before expiry, and fetches it single-flight:
 * callers arriving while a fetch is in flight share it, so N parallel calls → 1 request.
 */
export class SingleFlightToken {
  readonly #fetch: (signal?: AbortSignal) => Promise<CachedToken>;
  readonly #marginMs: number;
  readonly #now: () => number;
  #current: CachedToken | undefined;
  #inFlight: Promise<CachedToken> | undefined;

  /** `fetch` obtains a new token; `now` is injectable for tests. */
  constructor(fetch: (signal?: AbortSignal) => Promise<CachedToken>, marginMs: number, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#marginMs = marginMs;
    this.#now = now;
  }

  /** A valid token, from the cache or a (shared) fetch. */
  async get(signal?: AbortSignal): Promise<string> {
    const current = this.#current;
    if (current && this.#now() < current.expiresAt - this.#marginMs) return current.value;
    // Not passing the caller's signal to a shared fetch: one caller aborting must not fail the others.
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    const fetched = this.#inFlight.then((token) => {
      this.#current = token;
      return token.value;
    });
    if (!signal) return fetched;
    return Promise.race([
      fetched,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  /** Drops `token` if it is still the cached one (compare-and-invalidate). */
  invalidate(token: string): void {
    if (this.#current?.value === token) this.#current = undefined;
  }
}

/** Options of {@link BearerTokenSource}. */
export interface BearerTokenOptions {
  /** Client of the SSO host (its base URL is the token URL's origin). */
  http: HttpClient;
  /** The token endpoint, absolute. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Agents only: sent as `TenantId` with every API call. */
  tenantId?: string;
  /** Refresh this long before expiry (default 300 s). */
  refreshMarginMs?: number;
  /** Assumed lifetime when the answer has no `expires_in` (default 7200 s). */
  defaultLifetimeSeconds?: number;
  now?: () => number;
  /** Receives one debug line per token fetched (never the token). */
  logger?: KefuLogger;
}

/** v2 authentication: OAuth2 client credentials → cached Bearer token (+ optional TenantId). */
export class BearerTokenSource implements YoumiAuthenticator {
  readonly #options: BearerTokenOptions;
  readonly #token: SingleFlightToken;

  /** Registers the client secret for redaction. */
  constructor(options: BearerTokenOptions) {
    registerSecret(options.clientSecret);
    this.#options = options;
    const now = options.now ?? Date.now;
    this.#token = new SingleFlightToken(() => this.#fetchToken(now), options.refreshMarginMs ?? 300_000, now);
  }

  /** `Authorization: Bearer …` (and `TenantId` for agents). */
  async authorize(signal?: AbortSignal): Promise<AuthorizedHeaders> {
    const token = await this.#token.get(signal);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (this.#options.tenantId) headers.tenantid = this.#options.tenantId;
    return { headers, token };
  }

  /** Forgets a refused token. */
  invalidate(token: string): void {
    this.#token.invalidate(token);
  }

  async #fetchToken(now: () => number): Promise<CachedToken> {
    const { clientId, clientSecret, scope, tokenUrl } = this.#options;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    if (scope) form.set('scope', scope);
    const startedAt = now();
    let answer: z.output<typeof YoumiTokenResponseSchema>;
    try {
      answer = await this.#options.http.requestJson(
        {
          method: 'POST',
          path: tokenUrl,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
        },
        YoumiTokenResponseSchema,
      );
    } catch (cause) {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi token endpoint ${tokenUrl} refused client ${clientId}: ${describe(cause)}`,
        {
          cause,
          retryable: isKefuError(cause) && cause.retryable,
          details: { tokenUrl, status: isKefuError(cause) ? cause.details.status : undefined },
        },
      );
    }
    registerSecret(answer.access_token);
    const lifetime = answer.expires_in ?? this.#options.defaultLifetimeSeconds ?? 7200;
    this.#options.logger?.debug('youmi bearer token fetched', { clientId, lifetimeSeconds: lifetime });
    // Expiry counted from the request start: the token may have been issued just after it.
    return { value: answer.access_token, expiresAt: startedAt + lifetime * 1000 };
  }
}

/** URL-encode(Base64(HMAC-SHA1(key, message))): the v1 signature (API-NOTES). */
export function v1Signature(key: string, message: string): string {
  return encodeURIComponent(createHmac('sha1', key).update(message, 'utf8').digest('base64'));
}

/** Options of {@link V1Signer}. */
export interface V1SignerOptions {
  http: HttpClient;
  appId: string;
  appKey: string;
  /** Path of the token call on the API host. */
  tokenPath: string;
  now?: () => number;
  /** Nonce generator (injectable for known-answer tests). */
  nonce?: () => string;
  refreshMarginMs?: number;
}

const V1TokenDataSchema = z.union([
  z
    .string()
    .min(1)
    .transform((value) => ({ token: value, expiresIn: undefined as number | undefined })),
  z
    .looseObject({
      access_token: z.string().min(1),
      expires_in: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
    })
    .transform((value) => ({ token: value.access_token, expiresIn: value.expires_in })),
]);

/**
 * v1 authentication: the token call is signed over appId + Nonce + Timestamp; every
 * request then carries access_token, Nonce, Timestamp and a Signature over
 * access_token + Nonce + Timestamp. Requests older than 10 minutes are refused (200005),
 * so each request is signed fresh.
 */
export class V1Signer implements YoumiAuthenticator {
  readonly #options: V1SignerOptions;
  readonly #token: SingleFlightToken;
  readonly #now: () => number;
  readonly #nonce: () => string;

  /** Registers the app key for redaction. */
  constructor(options: V1SignerOptions) {
    registerSecret(options.appKey);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#nonce = options.nonce ?? (() => randomBytes(8).toString('hex'));
    this.#token = new SingleFlightToken(() => this.#fetchToken(), options.refreshMarginMs ?? 300_000, this.#now);
  }

  /** The signed headers of the token call itself. */
  tokenHeaders(): Record<string, string> {
    const nonce = this.#nonce();
    const timestamp = String(Math.floor(this.#now() / 1000));
    return {
      appid: this.#options.appId,
      nonce,
      timestamp,
      signature: v1Signature(this.#options.appKey, `${this.#options.appId}${nonce}${timestamp}`),
    };
  }

  /** access_token, Nonce, Timestamp, Signature for one request. */
  async authorize(signal?: AbortSignal): Promise<AuthorizedHeaders> {
    const token = await this.#token.get(signal);
    const nonce = this.#nonce();
    const timestamp = String(Math.floor(this.#now() / 1000));
    return {
      token,
      headers: {
        access_token: token,
        nonce,
        timestamp,
        signature: v1Signature(this.#options.appKey, `${token}${nonce}${timestamp}`),
      },
    };
  }

  /** Forgets a refused token. */
  invalidate(token: string): void {
    this.#token.invalidate(token);
  }

  async #fetchToken(): Promise<CachedToken> {
    const startedAt = this.#now();
    const headers = this.tokenHeaders();
    let envelope: z.output<typeof YoumiV1EnvelopeSchema>;
    try {
      envelope = await this.#options.http.requestJson(
        { method: 'POST', path: this.#options.tokenPath, headers, json: { appId: this.#options.appId } },
        YoumiV1EnvelopeSchema,
      );
    } catch (cause) {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi v1 token call refused app ${this.#options.appId}: ${describe(cause)}`,
        {
          cause,
          retryable: isKefuError(cause) && cause.retryable,
        },
      );
    }
    const data = V1TokenDataSchema.safeParse(envelope.Data);
    if (!envelope.Result || !data.success) {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi v1 token call failed with ReturnCode ${envelope.ReturnCode}: ${envelope.Message ?? 'no token in Data'}`,
        { details: { platformCode: envelope.ReturnCode } },
      );
    }
    registerSecret(data.data.token);
    return { value: data.data.token, expiresAt: startedAt + (data.data.expiresIn ?? 7200) * 1000 };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
