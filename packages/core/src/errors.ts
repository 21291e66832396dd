import { redactText, redactValue } from './redaction.js';

/**
 * Errors. Every error kefu raises is a {@link KefuError} with a stable `code` from a
 * catalogue: each package declares its own catalogue with {@link defineErrorCatalogue}
 * (codes, what happened, how to fix it) and `docs/errors.md` lists them all.
 * Check errors with {@link isKefuError} rather than `instanceof`: two copies of core in
 * one process break `instanceof`.
 */

/** One catalogue entry: a one-line description and the fix a user should apply. */
export interface ErrorCatalogueEntry {
  /** What went wrong, for the docs. */
  readonly description: string;
  /** What the user should do about it. */
  readonly fix: string;
  /** Whether trying again later may succeed. Defaults to false. */
  readonly retryable?: boolean;
}

/** A set of error codes with their descriptions and fixes. */
export type ErrorCatalogue<Code extends string> = { readonly [K in Code]: ErrorCatalogueEntry };

/** Options for constructing a {@link KefuError}. */
export interface KefuErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's retryability (e.g. a platform code known to be transient). */
  retryable?: boolean;
  /** Structured, secret-free details (field paths, platform codes, URLs with secrets redacted). */
  details?: Record<string, unknown>;
  /** Milliseconds the caller should wait before retrying (e.g. from Retry-After). */
  retryAfterMs?: number;
}

/** The error class of kefu. `code` identifies the catalogue entry. */
export class KefuError extends Error {
  /** Marker used by {@link isKefuError}; survives duplicate copies of core. */
  readonly kefuError = true as const;
  /** Stable machine-readable code, e.g. `KEFU_CONFIG_INVALID` or `WECHAT_45009`. */
  readonly code: string;
  /** Whether trying again may succeed. */
  readonly retryable: boolean;
  /** How to fix it, from the catalogue. */
  readonly fix: string | undefined;
  /** Structured, secret-free details. */
  readonly details: Record<string, unknown>;
  /** Suggested wait before retrying, when known. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: KefuErrorOptions & { fix?: string } = {}) {
    // Messages often quote URLs and payloads: scrub registered secrets once, here.
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KefuError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.fix = options.fix;
    this.details = redactValue(options.details ?? {}) as Record<string, unknown>;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A JSON form for logs: code, message, fix, details; never the cause's secrets. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
    };
  }
}

/** True when `value` is a {@link KefuError} from any copy of core. */
export function isKefuError(value: unknown): value is KefuError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kefuError?: unknown }).kefuError === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** True when `error` says trying again may succeed (a {@link KefuError} with `retryable`). */
export function isRetryable(error: unknown): boolean {
  return isKefuError(error) && error.retryable;
}

/**
 * Declares a package's error catalogue and returns a factory for its errors.
 *
 * @example
 * ```ts
 * const catalogue = { SINK_FILE_NOT_WRITABLE: { description: 'The output directory is not writable', fix: 'Check permissions of `dir`' } };
 * export const fileSinkError = defineErrorCatalogue(catalogue);
 * throw fileSinkError('SINK_FILE_NOT_WRITABLE', `cannot write ${dir}`);
 * ```
 */
export function defineErrorCatalogue<Code extends string>(catalogue: ErrorCatalogue<Code>) {
  const create = (code: Code, message: string, options: KefuErrorOptions = {}): KefuError => {
    const entry = catalogue[code];
    return new KefuError(code, message, {
      ...options,
      retryable: options.retryable ?? entry.retryable ?? false,
      fix: entry.fix,
    });
  };
  return Object.assign(create, { catalogue });
}

/**
 * A catalogue as a markdown table (`| Code | Description | Fix | Retried |`), the form
 * docs/errors.md uses; a test keeps each package's section equal to its catalogue.
 */
export function errorCatalogueMarkdown(catalogue: ErrorCatalogue<string>): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = Object.entries(catalogue).map(
    ([code, entry]) =>
      `| \`${code}\` | ${cell(entry.description)} | ${cell(entry.fix)} | ${entry.retryable ? 'yes' : 'no'} |`,
  );
  return ['| Code | Description | Fix | Retried |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The catalogue of @kefu/core. */
export const coreErrorCatalogue = {
  KEFU_CONFIG_INVALID: {
    description: 'A configuration value is missing or has the wrong type.',
    fix: 'Correct the field named in the message; `kefu doctor` checks a whole config file.',
  },
  KEFU_QUERY_INVALID: {
    description: 'A record query is malformed (bad dates, `from` after `to`, unknown account).',
    fix: 'Pass ISO-8601 dates or Date objects with from <= to, and an account the provider serves.',
  },
  KEFU_RECORD_INVALID: {
    description: 'A provider produced a record that does not match the record schema.',
    fix: "Report it to the provider's authors with the record id and the field named in the message; to sync past it meanwhile, set `sync.onInvalidRecord: dead-letter` (with `deadLetterPath`) or `skip`.",
  },
  KEFU_CHECKPOINT_INVALID: {
    description: 'A stored checkpoint cannot be read or belongs to another stream.',
    fix: 'Delete or repair the checkpoint named in the message; the next sync then starts from `from`.',
  },
  KEFU_PLUGIN_NOT_FOUND: {
    description: 'A plugin package named in the configuration cannot be imported.',
    fix: 'Install it next to the config (e.g. `pnpm add @kefu/wechat-mp`) or fix the package name.',
  },
  KEFU_PLUGIN_INVALID: {
    description: 'A module was imported but does not export a kefu plugin descriptor.',
    fix: 'Export `plugin` (or a default export) created with `definePlugin` from the package entry point.',
  },
  KEFU_PLUGIN_LOAD_FAILED: {
    description: 'A plugin package was found but importing it threw (a missing dependency, a syntax error).',
    fix: 'Read the cause in the message; reinstall the plugin and its dependencies (`pnpm install`).',
  },
  KEFU_PLUGIN_DUPLICATE_CORE: {
    description:
      "A plugin was defined with a copy of @kefu/core that cannot share the runtime's container: another version, or other DI tokens. Copies of the same version at different paths work together.",
    fix: "Run the install command the message names (`npm install @kefu/core@<the runtime's version>`) in the directory it names; plugins declare @kefu/core as a peerDependency.",
  },
  KEFU_PROVIDER_NOT_FOUND: {
    description: 'No provider with the requested id is configured.',
    fix: 'Use one of the provider ids listed in the message, or add the provider to the config.',
  },
  KEFU_SINK_NOT_FOUND: {
    description: 'No sink with the requested id is configured.',
    fix: 'Use one of the sink ids listed in the message, or add the sink to the config.',
  },
  KEFU_RUNTIME_CLOSED: {
    description: 'The kefu runtime was used after `close()`.',
    fix: 'Create a new runtime with `createKefu` / `loadKefu`; do not keep references past `close()`.',
  },
  KEFU_PROVIDER_CLOSED: {
    description: 'A provider was used after `close()` (records, agents, messages).',
    fix: 'Create a new provider (or runtime); do not keep references past `close()`.',
  },
  KEFU_SINK_CLOSED: {
    description: 'A sink was written to after `close()`.',
    fix: 'Create a new sink (or runtime); close sinks only after the last write resolved.',
  },
  KEFU_CAPABILITY_UNSUPPORTED: {
    description: 'The provider does not implement the requested capability.',
    fix: 'Check `provider.capabilities` before calling, or use a provider that supports it.',
  },
  KEFU_HTTP_TIMEOUT: {
    description: 'An HTTP request timed out (connect, headers or body).',
    fix: 'Check connectivity to the platform; raise `timeouts` in the provider config if the network is slow.',
    retryable: true,
  },
  KEFU_HTTP_NETWORK: {
    description: 'An HTTP request failed at the network level (refused, reset, DNS).',
    fix: 'Check the base URL and connectivity; kefu retries these automatically.',
    retryable: true,
  },
  KEFU_HTTP_STATUS: {
    description: 'The server answered with an HTTP error status.',
    fix: '5xx, 408 and 429 are retried (honouring Retry-After up to the retry policy maxDelayMs); for 4xx check credentials and the request named in the message.',
  },
  KEFU_HTTP_RESPONSE_TOO_LARGE: {
    description: 'A response body exceeded the configured size limit.',
    fix: 'Lower the page size or raise `maxResponseBytes`.',
  },
  KEFU_HTTP_BAD_BODY: {
    description: 'A response body is not valid JSON or does not match the expected schema.',
    fix: 'Invalid JSON (a truncated body) is retried; a body of the wrong shape is not: the platform changed its format, report it with the field named in the message.',
    retryable: true,
  },
  KEFU_SINK_FAILED: {
    description: 'A sink failed to accept a batch.',
    fix: 'See the cause; the checkpoint was not advanced, so the next run delivers the batch again.',
  },
  KEFU_SYNC_ABORTED: {
    description: 'A sync was stopped (signal, SIGINT/SIGTERM) before it finished.',
    fix: 'Run it again: it resumes from the last committed checkpoint, over the range the stopped sync was asked for.',
  },
  KEFU_SYNC_RANGE_DIFFERS: {
    description:
      "A warning: a target resumes a stored range (an interrupted sync's, or its first sync's start) that differs from the range this run asked for.",
    fix: 'Nothing to do to finish the stored range; to sync another range of that target from scratch, delete its checkpoint first.',
  },
  KEFU_DEAD_LETTER_FAILED: {
    description: 'An invalid record could not be appended to the dead-letter file (`sync.deadLetterPath`).',
    fix: 'Check that the file and its directory are writable and that the disk has space; the checkpoint did not pass the record.',
    retryable: true,
  },
  KEFU_QUOTA_EXHAUSTED: {
    description: 'The platform quota for the day is used up; the sync stopped cleanly.',
    fix: 'Run again after the quota resets (midnight platform time); it resumes from the checkpoint.',
  },
  KEFU_TOKEN_KEY_MISSING: {
    description:
      'Access tokens are stored encrypted (AES-256-GCM) and no key was given: `KEFU_TOKEN_KEY` is unset, or a stored token was encrypted with a key that is no longer configured.',
    fix: 'Set KEFU_TOKEN_KEY to 32 random bytes in base64 or hex (`openssl rand -base64 32`); after a rotation put the previous keys in KEFU_TOKEN_OLD_KEYS (comma-separated). A token that cannot be decrypted can also be deleted: the next call fetches a fresh one.',
  },
  KEFU_TOKEN_KEY_INVALID: {
    description: 'KEFU_TOKEN_KEY or an entry of KEFU_TOKEN_OLD_KEYS is not 32 bytes in base64 or hex.',
    fix: 'Generate a key with `openssl rand -base64 32` (44 characters) or `openssl rand -hex 32` (64 characters); the key itself is never printed.',
  },
  KEFU_TOKEN_DECRYPT_FAILED: {
    description:
      'A stored access token did not decrypt: its ciphertext was altered, moved to another app id, or encrypted with another key of the same id.',
    fix: 'Delete the token row named in the message (the next call fetches a fresh token) and check that every process uses the same KEFU_TOKEN_KEY.',
  },
  KEFU_TOKEN_LOCK_TIMEOUT: {
    description: 'The lock of a file token store (`<path>.lock`) could not be taken in time: another process holds it.',
    fix: 'Check for a hung process; a lock older than `staleLockMs` or held by a dead process is broken automatically. Delete `<path>.lock` if no kefu process runs.',
    retryable: true,
  },
  KEFU_TOKEN_STORE_FAILED: {
    description:
      'The token file of a file token store (`tokenStore: { type: "file", path }`) could not be read or written.',
    fix: 'Check the path and permissions of the token file and its directory (the file must be readable and writable by this user only, mode 0600).',
  },
  KEFU_SPOOL_FAILED: {
    description:
      'The push spool (the SQLite file where pushed records wait for the sinks) could not be opened or written; the push was not acknowledged, so the platform retries it.',
    fix: 'Check that `serve.spool.path` and its directory are writable, that the disk has space, and that no other `kefu serve` uses the same file.',
    retryable: true,
  },
} as const satisfies ErrorCatalogue<string>;

/** Creates a @kefu/core error by code. */
export const coreError = defineErrorCatalogue(coreErrorCatalogue);
/** The codes of @kefu/core. */
export type CoreErrorCode = keyof typeof coreErrorCatalogue;
