import { createHmac, randomBytes } from 'node:crypto';
import {
  firstZodIssue,
  type HttpClient,
  isKefuError,
  type KefuError,
  type KefuLogger,
  registerSecret,
} from '@kefu/core';
import { readBeijingTime } from './beijing-time.js';
import { youmiError } from './errors.js';
import { readEnvelopeText } from './youmi-envelope.js';
import { type YoumiTokenResponse, YoumiTokenResponseSchema, YoumiV1TokenValuesSchema } from './youmi-schemas.js';

/**
 * Authentication of Youmi requests, behind one interface for both API generations
 * (platforms/youmi-api.md §1.1–1.2): v2 sends `Authorization: Bearer <token>` from the token
 * call 获取商户TOKEN; v1 sends `access_token`, `Nonce`, `Timestamp` and an HMAC-SHA1
 * `Signature`, with a token from `GetAccessToken`.
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
 * callers arriving while a fetch is in flight share it, so N parallel calls → 1 request,
 * and N calls refused with the same revoked token → 1 refresh (compare-and-invalidate).
 */
export class SingleFlightToken {
  readonly #fetch: () => Promise<CachedToken>;
  readonly #marginMs: number;
  readonly #now: () => number;
  #current: CachedToken | undefined;
  #inFlight: Promise<CachedToken> | undefined;

  /** `fetch` obtains a new token; `now` is injectable for tests. */
  constructor(fetch: () => Promise<CachedToken>, marginMs: number, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#marginMs = marginMs;
    this.#now = now;
  }

  /** A valid token, from the cache or a (shared) fetch. */
  async get(signal?: AbortSignal): Promise<string> {
    const current = this.#current;
    if (current && this.#now() < current.expiresAt - this.#marginMs) return current.value;
    // The caller's signal is not passed to a shared fetch: one caller aborting must not fail the others.
    this.#inFlight ??= this.#fetch()
      .then((token) => {
        this.#current = token;
        return token;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    const fetched = this.#inFlight.then((token) => token.value);
    if (!signal) return fetched;
    return Promise.race([
      fetched,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  /** Drops `token` if it is still the cached one: a refusal of an older token never discards a newer one. */
  invalidate(token: string): void {
    if (this.#current?.value === token) this.#current = undefined;
  }
}

/**
 * When a token expires. `expiresIn` is read as an absolute Unix time when it is one (more than
 * 10^9: the v1 example `1593503171` is msgTime + 7 days) and as a lifetime otherwise; an absolute
 * expiry is counted from the server's own `serverTime` when given, so clock skew does not matter.
 */
export function tokenExpiry(
  expiresIn: number | undefined,
  startedAt: number,
  defaultLifetimeSeconds: number,
  serverTime?: number,
): number {
  if (expiresIn === undefined) return startedAt + defaultLifetimeSeconds * 1000;
  if (expiresIn > 1_000_000_000) {
    const lifetimeMs = expiresIn * 1000 - (serverTime ?? startedAt);
    return startedAt + Math.max(0, lifetimeMs);
  }
  // Counted from the request start: the token may have been issued just after it.
  return startedAt + expiresIn * 1000;
}

/** Wraps a failed token request: the endpoint unreachable or failing (5xx) vs refusing the credentials. */
function tokenCallFailure(cause: unknown, what: string, url: string, who: string): KefuError {
  const status = isKefuError(cause) ? cause.details.status : undefined;
  const unavailable =
    !isKefuError(cause) ||
    cause.code === 'KEFU_HTTP_NETWORK' ||
    cause.code === 'KEFU_HTTP_TIMEOUT' ||
    (typeof status === 'number' && (status >= 500 || status === 429));
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (unavailable) {
    return youmiError('YOUMI_TOKEN_ENDPOINT_UNAVAILABLE', `${what} ${url} is unavailable: ${reason}`, {
      cause,
      details: { endpoint: url, ...(status === undefined ? {} : { status }) },
    });
  }
  return youmiError('YOUMI_AUTH_FAILED', `${what} ${url} refused ${who}: ${reason}`, {
    cause,
    details: { endpoint: url, ...(status === undefined ? {} : { status }) },
  });
}

/** What the token call 获取商户TOKEN needs. */
export interface MerchantTokenRequest {
  /** Client of the token URL's origin. */
  http: HttpClient;
  /** The token URL, absolute (default in config: `https://sso.yunshouzhi.net/connect/token`). */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Documented fixed value `Ls.Qkl.PublicApi`. */
  scope: string;
  signal?: AbortSignal;
}

/**
 * The token call 获取商户TOKEN (§1.1): `POST tokenUrl`, form-encoded `client_id`,
 * `client_secret`, `scope` and `grant_type=client_credentials`. Answers the token answer as
 * sent (OAuth2 shape, inferred: the doc's example is `{}`). A 5xx or unreachable endpoint
 * is `YOUMI_TOKEN_ENDPOINT_UNAVAILABLE` (retryable), a refusal `YOUMI_AUTH_FAILED`; both
 * name the URL used.
 */
export async function requestMerchantToken(request: MerchantTokenRequest): Promise<YoumiTokenResponse> {
  registerSecret(request.clientSecret);
  const form = new URLSearchParams({
    client_id: request.clientId,
    client_secret: request.clientSecret,
    scope: request.scope,
    grant_type: 'client_credentials',
  });
  let answer: YoumiTokenResponse;
  try {
    answer = await request.http.requestJson(
      {
        method: 'POST',
        path: request.tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        ...(request.signal ? { signal: request.signal } : {}),
      },
      YoumiTokenResponseSchema,
    );
  } catch (cause) {
    if (isKefuError(cause) && cause.code === 'KEFU_HTTP_BAD_BODY') {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi token endpoint ${request.tokenUrl} answered without a usable token: ${cause.message}`,
        { cause, details: { endpoint: request.tokenUrl } },
      );
    }
    throw tokenCallFailure(cause, 'the Youmi token endpoint', request.tokenUrl, `client ${request.clientId}`);
  }
  registerSecret(answer.access_token);
  return answer;
}

/** Options of {@link BearerTokenSource}. */
export interface BearerTokenOptions extends Omit<MerchantTokenRequest, 'signal'> {
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

/** v2 authentication: the token call → cached `Authorization: Bearer` token (+ `TenantId` for agents). */
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
    const startedAt = now();
    const answer = await requestMerchantToken(this.#options);
    const expiresAt = tokenExpiry(
      answer.expires_in ?? undefined,
      startedAt,
      this.#options.defaultLifetimeSeconds ?? 7200,
    );
    this.#options.logger?.debug('youmi bearer token fetched', {
      clientId: this.#options.clientId,
      lifetimeSeconds: Math.round((expiresAt - startedAt) / 1000),
    });
    return { value: answer.access_token, expiresAt };
  }
}

/** UrlEncode(Base64(HMAC-SHA1(key, message))): the v1 signature (§1.2 生成signature). */
export function v1Signature(key: string, message: string): string {
  return encodeURIComponent(createHmac('sha1', key).update(message, 'utf8').digest('base64'));
}

/** Options of {@link V1Signer}. */
export interface V1SignerOptions {
  /** Client of the v1 token URL's origin. */
  http: HttpClient;
  appId: string;
  appKey: string;
  /** `…/publicapi/v1/GetAccessToken`, absolute. */
  tokenUrl: string;
  now?: () => number;
  /** Nonce generator (injectable for known-answer tests). */
  nonce?: () => string;
  refreshMarginMs?: number;
  /** Offset of a zone-less `msgTime` (default Beijing time). */
  timeZoneOffsetMinutes?: number;
}

/**
 * v1 authentication (§1.2): `POST tokenUrl?format=json` with `Content-type: text/json` and the
 * JSON body `{AppId, Nonce, Timestamp, Signature}` signed over AppId + Nonce + Timestamp;
 * every request then carries `access_token`, `Nonce`, `Timestamp` and a `Signature` over
 * access_token + Nonce + Timestamp. Requests older than 10 minutes are refused (200005), so
 * each request is signed fresh.
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

  /** The JSON body of the token call: AppId, a fresh Nonce and Timestamp, and their Signature. */
  tokenRequestBody(): { AppId: string; Nonce: string; Timestamp: number; Signature: string } {
    const nonce = this.#nonce();
    const timestamp = Math.floor(this.#now() / 1000);
    return {
      AppId: this.#options.appId,
      Nonce: nonce,
      Timestamp: timestamp,
      Signature: v1Signature(this.#options.appKey, `${this.#options.appId}${nonce}${timestamp}`),
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
        'content-type': 'text/json',
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
    const { tokenUrl, appId } = this.#options;
    let text: string;
    try {
      const response = await this.#options.http.request({
        method: 'POST',
        path: tokenUrl,
        query: { format: 'json' },
        headers: { 'content-type': 'text/json', accept: 'application/json' },
        body: JSON.stringify(this.tokenRequestBody()),
      });
      text = response.text();
    } catch (cause) {
      throw tokenCallFailure(cause, 'the Youmi v1 token call', tokenUrl, `app ${appId}`);
    }
    const envelope = readEnvelopeText(text);
    if (!envelope) {
      throw youmiError('YOUMI_AUTH_FAILED', `the Youmi v1 token call ${tokenUrl} did not answer an envelope`, {
        details: { endpoint: tokenUrl },
      });
    }
    if (!envelope.succeed) {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi v1 token call ${tokenUrl} refused app ${appId} with errmsg ${envelope.errmsg}: ${envelope.errdesc || 'no description'}`,
        { details: { endpoint: tokenUrl, platformCode: envelope.errmsg } },
      );
    }
    const values = YoumiV1TokenValuesSchema.safeParse(envelope.values);
    if (!values.success) {
      throw youmiError(
        'YOUMI_AUTH_FAILED',
        `the Youmi v1 token call ${tokenUrl} answered without a usable token: ${firstZodIssue(values.error, 'values')}`,
        { details: { endpoint: tokenUrl } },
      );
    }
    registerSecret(values.data.token);
    const serverTime = envelope.msgTime
      ? readBeijingTime(envelope.msgTime, this.#options.timeZoneOffsetMinutes)
      : undefined;
    return { value: values.data.token, expiresAt: tokenExpiry(values.data.expiresIn, startedAt, 7200, serverTime) };
  }
}
