import { defineErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/sync-workers (codes `WORKERS_*`); the package README lists them. */
export const syncWorkersErrorCatalogue = {
  WORKERS_CONFIG_INVALID: {
    description: 'A worker option is missing or has a wrong value (job name, lease, concurrency, table name).',
    fix: 'Correct the option named in the message (see the options table in the @kefu/sync-workers README).',
  },
  WORKERS_DATABASE_UNREACHABLE: {
    description: 'PostgreSQL could not be reached or the connection broke (refused, reset, timeout, too many clients).',
    fix: 'Check the postgres:// URL and that the server accepts connections; workers retry these on the next poll.',
    retryable: true,
  },
  WORKERS_DATABASE_TIMEOUT: {
    description:
      'A statement on the work or token tables, or connecting to PostgreSQL, did not finish in time: the server hangs or the network stalled.',
    fix: 'Check the server and the network path to it; the connection was discarded and the next attempt uses a new one (timeouts: openWorkerPool options).',
    retryable: true,
  },
  WORKERS_DATABASE_FAILED: {
    description: 'PostgreSQL refused a statement of the work or token tables (permissions, a conflicting table).',
    fix: 'Read the server’s reason in the message; the role needs CREATE on the schema and read/write on the tables.',
  },
  WORKERS_NO_ACCOUNTS: {
    description: 'The worker was given no provider account to share (no providers, or providers without accounts).',
    fix: 'Configure at least one provider with accounts; every worker of a job must use the same provider ids.',
  },
  WORKERS_TOKEN_INVALID: {
    description: 'A token row in the shared token table is malformed (hand-edited or written by another tool).',
    fix: 'Delete the row named in the message; the next call fetches a fresh token.',
  },
} as const;

/** Creates a @kefu/sync-workers error by code. */
export const syncWorkersError = defineErrorCatalogue(syncWorkersErrorCatalogue);
/** The codes of @kefu/sync-workers. */
export type SyncWorkersErrorCode = keyof typeof syncWorkersErrorCatalogue;
