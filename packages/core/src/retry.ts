import { coreError, isKefuError } from './errors.js';

/** Exponential back-off with full jitter. */
export interface RetryPolicy {
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: number;
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any single delay. */
  maxDelayMs: number;
  /** 0 = no jitter, 1 = full jitter (delay drawn from [0, computed]). */
  jitter: number;
}

/** The default policy: 6 attempts, 200 ms doubling up to 30 s, full jitter. */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 30_000, jitter: 1 };

/** The delay before retry number `retry` (1-based), jittered. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential * (1 - policy.jitter * random());
  return Math.max(0, Math.round(jittered));
}

/** Resolves after `ms`, or rejects with KEFU_SYNC_ABORTED when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error to reject with when `signal` aborted (its reason if that is a KefuError). */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (isKefuError(reason)) return reason;
  return coreError('KEFU_SYNC_ABORTED', 'the operation was aborted', { cause: reason });
}

/** Options of {@link retryWithBackoff}. */
export interface RetryOptions {
  policy?: RetryPolicy;
  signal?: AbortSignal;
  /** Decides whether an error is worth another attempt (default: KefuError.retryable). */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each retry with the error and the delay chosen. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  random?: () => number;
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, or the attempts
 * run out. Honours `retryAfterMs` on KefuErrors (Retry-After, per-minute quotas).
 */
export async function retryWithBackoff<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? defaultRetryPolicy;
  const isRetryable = options.isRetryable ?? ((error: unknown) => isKefuError(error) && error.retryable);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (attempt >= policy.maxAttempts || !isRetryable(error)) throw error;
      const suggested = isKefuError(error) ? error.retryAfterMs : undefined;
      const delayMs = suggested ?? backoffDelay(attempt, policy, options.random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
