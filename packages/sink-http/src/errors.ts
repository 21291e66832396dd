import { defineErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/sink-http (codes `SINK_HTTP_*`); `docs/sinks/http.md` lists them. */
export const httpSinkErrorCatalogue = {
  SINK_HTTP_CONFIG_INVALID: {
    description: 'The HTTP sink configuration is missing a field or has a wrong value.',
    fix: 'Correct the field named in the message (see the options table in the @kefu/sink-http README).',
  },
  SINK_HTTP_REJECTED: {
    description: 'The webhook answered with a 4xx status (other than 408/429): the batch will never be accepted as is.',
    fix: 'Check the webhook URL, its authentication and what the receiver logged for the Idempotency-Key in the message.',
  },
  SINK_HTTP_SERVER_ERROR: {
    description: 'The webhook answered 5xx, 408 or 429 (retried with back-off, honouring Retry-After).',
    fix: 'Check the receiver’s health; raise `retry.maxAttempts` to ride out longer outages.',
    retryable: true,
  },
  SINK_HTTP_NETWORK: {
    description: 'The request failed at the network level (refused, reset, DNS) and was retried.',
    fix: 'Check that the receiver is reachable from this host; kefu retries these automatically.',
    retryable: true,
  },
  SINK_HTTP_TIMEOUT: {
    description: 'Connecting, or waiting for the response headers or body, took longer than the configured timeout.',
    fix: 'Make the receiver answer faster (acknowledge, then process) or raise `timeouts`.',
    retryable: true,
  },
  SINK_HTTP_DEAD_LETTER_FAILED: {
    description: 'A batch failed permanently and could not be written to the dead-letter file either.',
    fix: 'Make `deadLetterPath` writable; the batch was not acknowledged, so the next run delivers it again.',
  },
} as const;

/** Creates a @kefu/sink-http error by code. */
export const httpSinkError = defineErrorCatalogue(httpSinkErrorCatalogue);
/** The codes of @kefu/sink-http. */
export type HttpSinkErrorCode = keyof typeof httpSinkErrorCatalogue;
