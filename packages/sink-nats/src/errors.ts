import { defineErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/sink-nats (codes `SINK_NATS_*`); the package README lists them. */
export const natsSinkErrorCatalogue = {
  SINK_NATS_CONFIG_INVALID: {
    description: 'The NATS sink configuration is missing a field or has a wrong value.',
    fix: 'Correct the field named in the message (see the options table in the @kefu/sink-nats README).',
  },
  SINK_NATS_UNREACHABLE: {
    description: 'The NATS server could not be reached or the connection was lost (refused, reset, closed).',
    fix: 'Check `servers` and that nats-server runs with JetStream enabled (`nats-server -js`); kefu retries these.',
    retryable: true,
  },
  SINK_NATS_TIMEOUT: {
    description: 'The server did not acknowledge a publish (PubAck) or an API call in time.',
    fix: 'Check the server’s health and load; raise `publishTimeoutMs` on slow links. The batch is retried as a whole; Nats-Msg-Id deduplication drops the copies already stored.',
    retryable: true,
  },
  SINK_NATS_NO_STREAM: {
    description:
      'No JetStream stream captures the subject (the server answered "no responders"), or JetStream is disabled.',
    fix: 'Let the sink create the stream (`createStream: true`), create it with subjects `<subjectPrefix>.>`, or enable JetStream on the server.',
    retryable: true,
  },
  SINK_NATS_STREAM_SETUP_FAILED: {
    description:
      'The stream is missing and may not be created (`createStream: false`), or creating it failed (e.g. its subjects overlap another stream).',
    fix: 'Create the stream with subjects `<subjectPrefix>.>`, or read the server’s reason in the message and pick another `stream` name or `subjectPrefix`.',
  },
  SINK_NATS_REJECTED: {
    description:
      'The server refused a publish or the connection (authorization, permissions, limits such as max bytes).',
    fix: 'Check `credentials`, the account’s publish permissions on `<subjectPrefix>.>` and the stream’s limits.',
  },
} as const;

/** Creates a @kefu/sink-nats error by code. */
export const natsSinkError = defineErrorCatalogue(natsSinkErrorCatalogue);
/** The codes of @kefu/sink-nats. */
export type NatsSinkErrorCode = keyof typeof natsSinkErrorCatalogue;
