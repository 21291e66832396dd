import type { Readable } from 'node:stream';
import type { KefuLogger } from './logger.js';
import type { RetryPolicy } from './retry.js';

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
}

/** An HTTP client on an undici keep-alive pool. Errors are KefuErrors with secrets redacted. */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Closes the pool; idempotent. */
  close(): Promise<void>;
}

/** Creates HTTP clients (bound in the container under TOKENS.HttpClientFactory). */
export interface HttpClientFactory {
  create(options: HttpClientOptions): HttpClient;
}
