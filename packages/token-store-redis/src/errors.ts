import { defineErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/token-store-redis (codes `TOKEN_STORE_REDIS_*`); the package README lists them. */
export const redisTokenStoreErrorCatalogue = {
  TOKEN_STORE_REDIS_CONFIG_INVALID: {
    description: 'The Redis token store configuration is missing a field or has a wrong value.',
    fix: 'Correct the field named in the message (see the options table in the @kefu/token-store-redis README).',
  },
  TOKEN_STORE_REDIS_UNREACHABLE: {
    description: 'Redis could not be reached, or the connection was lost while a command was pending.',
    fix: 'Check `url` (redis:// or rediss://, password included) and that the server runs; kefu retries these.',
    retryable: true,
  },
  TOKEN_STORE_REDIS_FAILED: {
    description: 'Redis refused a command (authentication, ACL permissions, out of memory, read-only replica).',
    fix: 'Read the server’s reason in the message: the user needs HGETALL, HSET, DEL, PEXPIRE, SET and EVAL on keys under `keyPrefix`, on a primary.',
  },
  TOKEN_STORE_REDIS_LOCK_TIMEOUT: {
    description:
      'Another process held the refresh lock of this app id for longer than `lockTimeoutMs` (it is refreshing, or hung while renewing).',
    fix: 'Retry; if it persists, look for a process stuck in a token refresh. A dead holder’s lock expires after `lockTtlMs` by itself.',
    retryable: true,
  },
  TOKEN_STORE_REDIS_INVALID_ENTRY: {
    description: 'A stored token under `keyPrefix` is not what this store writes (another program uses the same keys).',
    fix: 'Give kefu its own `keyPrefix`, or delete the key named in the message; the next refresh writes a fresh token.',
  },
  TOKEN_STORE_REDIS_CLOSED: {
    description: 'The store was used after close().',
    fix: 'Create a new store; a closed store does not reopen.',
  },
} as const;

/** Creates a @kefu/token-store-redis error by code. */
export const redisTokenStoreError = defineErrorCatalogue(redisTokenStoreErrorCatalogue);
/** The codes of @kefu/token-store-redis. */
export type RedisTokenStoreErrorCode = keyof typeof redisTokenStoreErrorCatalogue;
