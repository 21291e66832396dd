import type { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import { z } from 'zod';
import { coreError, isKefuError, type KefuError } from './errors.js';
import { parseJsonBytes } from './json-bytes.js';
import { type KefuLogger, silentLogger } from './logger.js';
import { isSensitiveName, redactText } from './redaction.js';
import { abortError, defaultRetryPolicy, type RetryPolicy, retryWithBackoff } from './retry.js';
import { formatZodIssue, zodIssueList } from './zod-issues.js';

/** One HTTP request. `path` is resolved against the client's base URL. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A JSON body (sets Content-Type: application/json). */
  json?: unknown;
  /** A raw body (Buffer, string, stream or FormData). */
  body?: string | Uint8Array | Readable | FormData;
  signal?: AbortSignal;
  /** Overrides the client's retry policy for this request; `false` = no retry. */
  retry?: RetryPolicy | false;
  /** Overrides the client's response size limit. */
  maxResponseBytes?: number;
  /** Told about each retry of this request (after the client's own `onRetry`). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** A buffered HTTP response. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as UTF-8 text. */
  text(): string;
}

/** Options of an HTTP client. */
export interface HttpClientOptions {
  baseUrl: string;
  /** Keep-alive connections per origin (default 8). */
  connections?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Largest response body accepted (default 64 MiB). */
  maxResponseBytes?: number;
  /** Retry of network errors, timeouts, 5xx and 429 (default: defaultRetryPolicy). */
  retry?: RetryPolicy | false;
  logger?: KefuLogger;
  /** Called before each retry, for metrics. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  userAgent?: string;
  /**
   * Send through this undici dispatcher (a `ProxyAgent`, an `Agent` with a custom CA)
   * instead of a pool of the client's own; the client never closes it (its owner does).
   */
  dispatcher?: Dispatcher;
}

/** An HTTP client on an undici keep-alive pool. Errors are KefuErrors with secrets redacted. */
export interface HttpClient {
  /** Sends a request, retrying network errors, timeouts, 5xx and 429; rejects with a KefuError. */
  request(request: HttpRequest): Promise<HttpResponse>;
  /**
   * Sends a request and parses its body as JSON validated by `schema`, in one retry
   * loop: an invalid (truncated) JSON body is retried like a network error, a body
   * that parses but does not match `schema` is not (KEFU_HTTP_BAD_BODY either way).
   */
  requestJson<Schema extends z.ZodType>(request: HttpRequest, schema: Schema): Promise<z.output<Schema>>;
  /** Closes the pool; idempotent. */
  close(): Promise<void>;
}

/** Creates HTTP clients (bound in the container under TOKENS.HttpClientFactory). */
export interface HttpClientFactory {
  create(options: HttpClientOptions): HttpClient;
}

// ---------------------------------------------------------------------------------------
// Implementation on undici.

const DEFAULTS = {
  connections: 8,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 4_000,
  maxResponseBytes: 64 * 1024 * 1024,
} as const;

/** How much of an error response body is quoted in an error message. */
const ERROR_BODY_QUOTE_BYTES = 512;

const RetryPolicySchema = z.object({
  maxAttempts: z.number().int().min(1),
  baseDelayMs: z.number().min(0),
  maxDelayMs: z.number().min(0),
  jitter: z.number().min(0).max(1),
});

/** Validates {@link HttpClientOptions} (functions and the logger are checked by type only). */
const HttpClientOptionsSchema = z.looseObject({
  baseUrl: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'must be an absolute http:// or https:// URL',
  }),
  connections: z.number().int().positive().optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  headersTimeoutMs: z.number().int().positive().optional(),
  bodyTimeoutMs: z.number().int().positive().optional(),
  keepAliveTimeoutMs: z.number().int().positive().optional(),
  maxResponseBytes: z.number().int().positive().optional(),
  retry: z.union([RetryPolicySchema, z.literal(false)]).optional(),
  userAgent: z.string().optional(),
});

/**
 * Parses a Retry-After header: delta-seconds or an HTTP date. Returns milliseconds to
 * wait (0 for a date in the past), or undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Quotes the start of a body for an error message with secrets removed: JSON fields
 * with sensitive names (`"access_token":"…"`), `name=value` pairs and registered secrets.
 */
function quoteBody(body: Buffer): string {
  const text = body.subarray(0, ERROR_BODY_QUOTE_BYTES).toString('utf8');
  const withoutFields = text.replace(
    // `("|$)`: a value cut off by the quote limit is still a secret.
    /"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)("|$)/g,
    (match, name: string, colon: string, _value: string, close: string) =>
      isSensitiveName(name) ? `"${name}"${colon}"[redacted]${close}` : match,
  );
  return redactText(withoutFields) + (body.length > ERROR_BODY_QUOTE_BYTES ? '…' : '');
}

/** undici error codes that mean a timeout, by phase. */
const TIMEOUT_PHASES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

/** Error codes (undici and Node) of failures worth retrying on a fresh connection. */
const TRANSIENT_NETWORK_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_CHUNK_SIZE',
]);

/** Where a request went, for messages and log fields (secrets redacted). */
interface RequestDescription {
  method: string;
  url: string;
  attempt: number;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns whatever undici or Node threw into a KefuError (or the abort error). */
function translateError(error: unknown, where: RequestDescription, signal: AbortSignal | undefined): Error {
  if (isKefuError(error)) return error;
  if (signal?.aborted) return abortError(signal);
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  const details = { ...where, cause: code ?? reason };
  const phase = code === undefined ? undefined : TIMEOUT_PHASES[code];
  if (phase) {
    return coreError('KEFU_HTTP_TIMEOUT', `${where.method} ${where.url} timed out waiting for the ${phase}`, {
      cause: error,
      details: { ...details, phase },
    });
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return coreError('KEFU_HTTP_NETWORK', `${where.method} ${where.url} failed: the HTTP client is closed`, {
      cause: error,
      retryable: false,
      details,
    });
  }
  return coreError('KEFU_HTTP_NETWORK', `${where.method} ${where.url} failed: ${reason}${code ? ` (${code})` : ''}`, {
    cause: error,
    // Unknown failures (bad arguments, TLS misconfiguration) will not heal by retrying.
    retryable: code !== undefined && TRANSIENT_NETWORK_CODES.has(code),
    details,
  });
}

function isStreamBody(body: HttpRequest['body']): body is Readable {
  return typeof (body as { pipe?: unknown } | undefined)?.pipe === 'function';
}

/** An {@link HttpClient} on one undici keep-alive `Pool` per client (one origin). */
class UndiciHttpClient implements HttpClient {
  readonly #pool: Dispatcher;
  /** False when the dispatcher came from the options: its owner closes it. */
  readonly #ownsPool: boolean;
  readonly #base: URL;
  readonly #options: HttpClientOptions;
  readonly #logger: KefuLogger;
  #closing: Promise<void> | undefined;

  constructor(options: HttpClientOptions) {
    const parsed = HttpClientOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw coreError('KEFU_CONFIG_INVALID', `HTTP client option ${formatZodIssue(issue)}`, {
        details: { issues: zodIssueList(parsed.error, Infinity) },
      });
    }
    this.#options = options;
    this.#base = new URL(options.baseUrl);
    this.#logger = options.logger ?? silentLogger;
    this.#ownsPool = options.dispatcher === undefined;
    this.#pool =
      options.dispatcher ??
      new Pool(this.#base.origin, {
        connections: options.connections ?? DEFAULTS.connections,
        connectTimeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        headersTimeout: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
      });
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    return this.#withRetry(request, (attempt) => this.#send(request, attempt));
  }

  requestJson<Schema extends z.ZodType>(request: HttpRequest, schema: Schema): Promise<z.output<Schema>> {
    return this.#withRetry(request, async (attempt) => {
      const response = await this.#send(request, attempt);
      return parseJsonBody(response, schema, this.#describe(request, attempt));
    });
  }

  close(): Promise<void> {
    if (!this.#ownsPool) {
      this.#closing ??= Promise.resolve();
      return this.#closing;
    }
    this.#closing ??= this.#pool.close().catch(() => this.#pool.destroy());
    return this.#closing;
  }

  #withRetry<T>(request: HttpRequest, operation: (attempt: number) => Promise<T>): Promise<T> {
    const configured = request.retry ?? this.#options.retry ?? defaultRetryPolicy;
    // A stream body is consumed by the first attempt: it cannot be sent twice.
    const policy: RetryPolicy | false = isStreamBody(request.body) ? false : configured;
    if (policy === false) return operation(1);
    return retryWithBackoff(
      async (attempt) => {
        try {
          return await operation(attempt);
        } catch (error) {
          throw refuseLongRetryAfter(error, policy);
        }
      },
      {
        policy,
        ...(request.signal ? { signal: request.signal } : {}),
        onRetry: (info) => {
          this.#logger.warn('http request retried', {
            ...this.#describe(request, info.attempt),
            delayMs: info.delayMs,
            code: isKefuError(info.error) ? info.error.code : undefined,
            status: isKefuError(info.error) ? info.error.details.status : undefined,
          });
          this.#options.onRetry?.(info);
          request.onRetry?.(info);
        },
      },
    );
  }

  #url(request: HttpRequest): URL {
    let url: URL;
    if (/^https?:\/\//i.test(request.path)) {
      url = new URL(request.path);
      if (url.origin !== this.#base.origin) {
        throw coreError(
          'KEFU_CONFIG_INVALID',
          `request URL ${redactText(url.toString())} is not on the client's origin ${this.#base.origin}`,
        );
      }
    } else {
      // Join rather than resolve, so a base path prefix (`https://host/api/`) is kept.
      url = new URL(this.#base.toString());
      const [pathPart, search] = request.path.split('?', 2) as [string, string | undefined];
      url.pathname = `${url.pathname.replace(/\/+$/, '')}/${pathPart.replace(/^\/+/, '')}`;
      if (search !== undefined) url.search = search;
    }
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  #describe(request: HttpRequest, attempt: number): RequestDescription {
    return { method: request.method, url: redactText(this.#url(request).toString()), attempt };
  }

  async #send(request: HttpRequest, attempt: number): Promise<HttpResponse> {
    if (request.signal?.aborted) throw abortError(request.signal);
    const url = this.#url(request);
    const where = this.#describe(request, attempt);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#options.userAgent ?? 'kefu',
      ...request.headers,
    };
    // Node's global FormData and undici 8's are the same at run time; only their typings differ.
    let body = (request.body ?? null) as Dispatcher.DispatchOptions['body'];
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#pool.request({
        // A shared dispatcher serves many origins: name ours (our own pool knows it).
        ...(this.#ownsPool ? {} : { origin: this.#base.origin }),
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        body,
        signal: request.signal ?? null,
      });
    } catch (error) {
      throw translateError(error, where, request.signal);
    }
    const limit = request.maxResponseBytes ?? this.#options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
    const received = await readLimitedBody(response, limit, where, request.signal);
    this.#logger.debug('http request', {
      ...where,
      status: response.statusCode,
      bytes: received.length,
      ms: Math.round(performance.now() - started),
    });
    if (response.statusCode >= 400) throw statusError(response, received, where);
    const responseHeaders = response.headers as Record<string, string | string[] | undefined>;
    return {
      status: response.statusCode,
      headers: responseHeaders,
      body: received,
      text: () => received.toString('utf8'),
    };
  }
}

/** A 5xx/429 whose Retry-After asks for longer than the policy allows fails now instead of hammering. */
function refuseLongRetryAfter(error: unknown, policy: RetryPolicy): unknown {
  if (!isKefuError(error) || !error.retryable || error.retryAfterMs === undefined) return error;
  if (error.retryAfterMs <= policy.maxDelayMs) return error;
  return coreError('KEFU_HTTP_STATUS', `${error.message}; Retry-After exceeds the retry policy's maxDelayMs`, {
    cause: error,
    retryable: false,
    details: { ...error.details, maxDelayMs: policy.maxDelayMs },
    retryAfterMs: error.retryAfterMs,
  });
}

/** Reads a body, aborting the transfer as soon as it exceeds `limit` bytes. */
async function readLimitedBody(
  response: Dispatcher.ResponseData,
  limit: number,
  where: RequestDescription,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const tooLarge = (bytes: number): KefuError =>
    coreError('KEFU_HTTP_RESPONSE_TOO_LARGE', `${where.method} ${where.url} returned more than ${limit} bytes`, {
      details: { ...where, status: response.statusCode, limit, receivedBytes: bytes },
    });
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Destroying the body aborts the request and closes its socket: nothing more is read.
    // The abort error it emits is expected; without a listener it would be uncaught.
    response.body.on('error', () => {});
    response.body.destroy();
    throw tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) {
        response.body.destroy();
        throw tooLarge(size);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    throw translateError(error, where, signal);
  }
  return Buffer.concat(chunks, size);
}

function statusError(response: Dispatcher.ResponseData, body: Buffer, where: RequestDescription): KefuError {
  const status = response.statusCode;
  const retryable = status >= 500 || status === 429 || status === 408;
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const quoted = quoteBody(body);
  return coreError(
    'KEFU_HTTP_STATUS',
    `${where.method} ${where.url} answered HTTP ${status}${quoted ? `: ${quoted}` : ''}`,
    {
      retryable,
      details: { ...where, status, body: quoted },
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  );
}

/** Parses a response body as JSON and validates it; failures are KEFU_HTTP_BAD_BODY. */
function parseJsonBody<Schema extends z.ZodType>(
  response: HttpResponse,
  schema: Schema,
  where: RequestDescription,
): z.output<Schema> {
  let value: unknown;
  try {
    value = parseJsonBytes(response.body);
  } catch (error) {
    throw coreError(
      'KEFU_HTTP_BAD_BODY',
      `${where.method} ${where.url} returned a body that is not JSON: ${quoteBody(response.body)}`,
      {
        cause: error,
        details: { ...where, status: response.status, body: quoteBody(response.body) },
      },
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = zodIssueList(result.error);
    const first = issues[0];
    throw coreError(
      'KEFU_HTTP_BAD_BODY',
      `${where.method} ${where.url} returned an unexpected body: ${first?.path || '(root)'}: ${first?.message}`,
      // The body parsed: asking again returns the same shape, so do not retry.
      { retryable: false, details: { ...where, status: response.status, issues } },
    );
  }
  return result.data;
}

/** Creates an {@link HttpClient} on an undici keep-alive pool for `options.baseUrl`'s origin. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new UndiciHttpClient(options);
}

/** The default {@link HttpClientFactory}: one undici pool per client. */
export const undiciHttpClientFactory: HttpClientFactory = {
  create: (options) => createHttpClient(options),
};

/**
 * An {@link HttpClientFactory} whose clients all send through `dispatcher` (a proxy, a
 * custom CA): what the runtime uses when `TOKENS.HttpDispatcher` is bound.
 *
 * @example
 * ```ts
 * import { ProxyAgent } from 'undici';
 * const httpClients = dispatcherHttpClientFactory(new ProxyAgent('http://proxy.internal:3128'));
 * ```
 */
export function dispatcherHttpClientFactory(dispatcher: Dispatcher): HttpClientFactory {
  return { create: (options) => createHttpClient({ ...options, dispatcher }) };
}
