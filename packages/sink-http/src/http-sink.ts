import {
  isKefuError,
  isSensitiveName,
  type KefuError,
  type KefuLogger,
  type RecordBatch,
  type RecordSink,
  registerSecret,
  retryWithBackoff,
  silentLogger,
  sinkClosedError,
} from '@kefu/core';
import { Pool } from 'undici';
import { batchIdempotencyKey, CONTENT_TYPES, encodeBatchBody } from './batch-encoding.js';
import { DeadLetterFile } from './dead-letter-file.js';
import { httpSinkError } from './errors.js';
import { type HttpSinkConfig, type HttpSinkConfigInput, parseHttpSinkConfig } from './sink-http-config.js';
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, signKefuPayload, TIMESTAMP_HEADER } from './webhook-signature.js';

/** Runtime collaborators of an {@link HttpSink}; replaceable in tests. */
export interface HttpSinkDependencies {
  logger?: KefuLogger;
  /** Random source of the back-off jitter (default Math.random). */
  random?: () => number;
  /** Clock in milliseconds for the signature timestamp (default Date.now). */
  now?: () => number;
}

/** Counters every sink reports. */
export interface HttpSinkStats {
  /** Batches the webhook accepted (2xx). */
  delivered: number;
  records: number;
  /** Body bytes of delivered batches. */
  bytes: number;
  /** Requests that were retried. */
  retries: number;
  /** Batches written to the dead-letter file. */
  deadLettered: number;
}

/** Statuses worth retrying besides 5xx: 408 Request Timeout and 429 Too Many Requests. */
const RETRYABLE_4XX = new Set([408, 429]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const ERROR_BODY_SNIPPET = 300;

/** Milliseconds from a Retry-After header (delta-seconds or HTTP date), or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Limits how many batches are in flight; waiters are served first come, first served. */
class ConcurrencyLimit {
  #available: number;
  readonly #waiting: Array<() => void> = [];

  constructor(slots: number) {
    this.#available = slots;
  }

  async acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#available += 1;
  }
}

/**
 * POSTs record batches to a webhook over an undici keep-alive pool, signed with
 * HMAC-SHA256 and keyed for deduplication. Retries network errors, 5xx, 408 and 429
 * (honouring Retry-After) with exponential back-off and jitter; a 4xx, or retries running
 * out, is a permanent failure: the batch goes to the dead-letter file (then `write`
 * resolves) or `write` rejects, as `onPermanentFailure` says.
 *
 * Up to `concurrency` writes are delivered at once, so the receiver may see batches out
 * of order; each `write` resolves only for its own batch, and the pipeline advances the
 * checkpoint over the contiguous acknowledged prefix only.
 *
 * @example
 * ```ts
 * const sink = new HttpSink({ url: 'https://hooks.example.com/kefu', secret, deadLetterPath: './dead-letter.jsonl' });
 * await sink.write(batch);
 * await sink.close();
 * ```
 */
export class HttpSink implements RecordSink {
  /** Instance id. */
  readonly id: string;
  /** Retries and replays deliver a batch again: receivers deduplicate by Idempotency-Key. */
  readonly guarantee = 'at-least-once' as const;
  /** The validated configuration. */
  readonly config: HttpSinkConfig;

  readonly #pool: Pool;
  readonly #path: string;
  readonly #limit: ConcurrencyLimit;
  readonly #deadLetter: DeadLetterFile | undefined;
  readonly #logger: KefuLogger;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stats: HttpSinkStats = { delivered: 0, records: 0, bytes: 0, retries: 0, deadLettered: 0 };
  #closing: Promise<void> | undefined;

  constructor(config: HttpSinkConfigInput, dependencies: HttpSinkDependencies = {}) {
    // Validation messages name fields, never values, so registering afterwards is safe and
    // keeps a rejected junk value (say, "short") out of the process-wide redaction list.
    this.config = parseHttpSinkConfig(config);
    registerSecret(this.config.secret);
    for (const [name, value] of Object.entries(this.config.headers)) if (isSensitiveName(name)) registerSecret(value);
    this.id = this.config.id;
    const url = new URL(this.config.url);
    this.#path = `${url.pathname}${url.search}`;
    this.#pool = new Pool(url.origin, {
      connections: this.config.concurrency,
      pipelining: 1,
      connectTimeout: this.config.timeouts.connectMs,
      headersTimeout: this.config.timeouts.responseMs,
      bodyTimeout: this.config.timeouts.responseMs,
      keepAliveTimeout: this.config.timeouts.keepAliveMs,
    });
    this.#limit = new ConcurrencyLimit(this.config.concurrency);
    this.#deadLetter = this.config.deadLetterPath ? new DeadLetterFile(this.config.deadLetterPath) : undefined;
    this.#logger = (dependencies.logger ?? silentLogger).child({ sink: this.id });
    this.#random = dependencies.random ?? Math.random;
    this.#now = dependencies.now ?? Date.now;
  }

  /** A snapshot of the counters. */
  get stats(): HttpSinkStats {
    return { ...this.#stats };
  }

  /** Delivers the batch (or dead-letters it); see the class comment for the guarantee. */
  write(batch: RecordBatch): Promise<void> {
    if (this.#closing) return Promise.reject(sinkClosedError(`http sink ${this.id}`));
    if (batch.records.length === 0) return Promise.resolve();
    const delivery = this.#deliver(batch);
    this.#inFlight.add(delivery);
    const forget = () => this.#inFlight.delete(delivery);
    delivery.then(forget, forget);
    return delivery;
  }

  /** Waits for deliveries in flight, then closes the connection pool; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await this.#pool.close();
    })();
    return this.#closing;
  }

  async #deliver(batch: RecordBatch): Promise<void> {
    const body = encodeBatchBody(batch, this.config.format);
    const key = batchIdempotencyKey(batch);
    await this.#limit.acquire();
    try {
      await retryWithBackoff((attempt) => this.#post(body, key, batch, attempt), {
        policy: this.config.retry,
        random: this.#random,
        onRetry: ({ attempt, delayMs, error }) => {
          this.#stats.retries += 1;
          this.#logger.warn('webhook delivery failed, retrying', {
            idempotencyKey: key,
            attempt,
            delayMs,
            error: isKefuError(error) ? error.toJSON() : String(error),
          });
        },
      });
      this.#stats.delivered += 1;
      this.#stats.records += batch.records.length;
      this.#stats.bytes += body.length;
    } catch (caught) {
      const error = isKefuError(caught)
        ? caught
        : httpSinkError('SINK_HTTP_NETWORK', 'webhook delivery failed', { cause: caught });
      if (this.config.onPermanentFailure === 'fail' || !this.#deadLetter) throw error;
      await this.#deadLetter.append({
        at: new Date(this.#now()).toISOString(),
        sink: this.id,
        idempotencyKey: key,
        error: error.toJSON(),
        batch,
      });
      this.#stats.deadLettered += 1;
      this.#logger.error('webhook delivery failed permanently; batch written to the dead-letter file', {
        idempotencyKey: key,
        deadLetterPath: this.#deadLetter.path,
        error: error.toJSON(),
      });
    } finally {
      this.#limit.release();
    }
  }

  async #post(body: Buffer, key: string, batch: RecordBatch, attempt: number): Promise<void> {
    // A fresh timestamp per attempt keeps retries inside the receiver's replay window.
    const timestamp = String(Math.floor(this.#now() / 1000));
    const headers: Record<string, string> = {
      ...this.config.headers,
      'content-type': CONTENT_TYPES[this.config.format],
      'user-agent': 'kefu-sink-http/0.1',
      [IDEMPOTENCY_KEY_HEADER]: key,
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signKefuPayload({ secret: this.config.secret, timestamp, body }),
      'x-kefu-stream': `${batch.stream.provider}/${batch.stream.account}`,
      'x-kefu-records': String(batch.records.length),
      'x-kefu-attempt': String(attempt),
    };
    let response: Awaited<ReturnType<Pool['request']>>;
    try {
      response = await this.#pool.request({ method: 'POST', path: this.#path, headers, body });
    } catch (cause) {
      throw this.#networkError(cause, key);
    }
    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) {
      await response.body.dump().catch(() => undefined);
      return;
    }
    const text = await response.body.text().catch(() => '');
    const snippet = text.slice(0, ERROR_BODY_SNIPPET);
    const details = { status: statusCode, idempotencyKey: key, response: snippet };
    if (statusCode >= 500 || RETRYABLE_4XX.has(statusCode)) {
      const retryAfter = parseRetryAfter(response.headers['retry-after'], this.#now());
      throw httpSinkError('SINK_HTTP_SERVER_ERROR', `webhook answered ${statusCode}`, {
        details,
        retryAfterMs: retryAfter === undefined ? undefined : Math.min(retryAfter, this.config.maxRetryAfterMs),
      });
    }
    throw httpSinkError('SINK_HTTP_REJECTED', `webhook rejected the batch with ${statusCode}`, { details });
  }

  #networkError(cause: unknown, key: string): KefuError {
    const code = (cause as { code?: unknown } | null)?.code;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (typeof code === 'string' && TIMEOUT_CODES.has(code))
      return httpSinkError('SINK_HTTP_TIMEOUT', `webhook request timed out (${code})`, {
        cause,
        details: { idempotencyKey: key, code },
      });
    return httpSinkError('SINK_HTTP_NETWORK', `webhook request failed: ${message}`, {
      cause,
      details: { idempotencyKey: key, ...(typeof code === 'string' ? { code } : {}) },
    });
  }
}
