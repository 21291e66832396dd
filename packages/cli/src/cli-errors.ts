import { isKefuError, KefuError, redactText } from '@kefu/core';
import type { cliErrorCatalogue } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** Codes that mean the user gave bad input (exit 2). */
const BAD_INPUT_CODES = new Set([
  'KEFU_CONFIG_INVALID',
  'KEFU_QUERY_INVALID',
  'KEFU_PLUGIN_NOT_FOUND',
  'KEFU_PLUGIN_INVALID',
  'KEFU_PROVIDER_NOT_FOUND',
  'KEFU_CHECKPOINT_INVALID',
  'KEFU_CLI_USAGE',
  'KEFU_TOKEN_KEY_MISSING',
  'KEFU_TOKEN_KEY_INVALID',
]);

/** A usage error of the CLI itself (bad flag value): exit code 2. */
export function usageError(message: string, fix: string): KefuError {
  // The catalogue's fix is generic; this one says exactly what the flag takes.
  const code: keyof typeof cliErrorCatalogue = 'KEFU_CLI_USAGE';
  return new KefuError(code, message, { fix });
}

/** The exit code an error maps to. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (isKefuError(error)) {
    // Every package's config error (`WECHAT_CONFIG_INVALID`, `SINK_DB_CONFIG_INVALID`, …) is bad input too.
    if (BAD_INPUT_CODES.has(error.code) || error.code.endsWith('_CONFIG_INVALID')) return ExitCode.BadInput;
    if (error.details.quotaExhausted === true || error.code === 'KEFU_QUOTA_EXHAUSTED') return ExitCode.QuotaExhausted;
    if (error.code === 'KEFU_SYNC_ABORTED') return ExitCode.Interrupted;
  }
  return ExitCode.Failed;
}

/** One line for humans: `kefu: <message> — fix: <fix> [CODE]`, secrets redacted. */
export function formatErrorLine(error: unknown): string {
  if (isKefuError(error)) {
    const fix = error.fix ? ` — fix: ${error.fix}` : '';
    return redactText(`kefu: ${error.message}${fix} [${error.code}]`).replace(/\s*\n\s*/g, ' ');
  }
  const message = error instanceof Error ? error.message : String(error);
  return redactText(`kefu: ${message}`).replace(/\s*\n\s*/g, ' ');
}

/** What a failure report shows: the code to look up, what happened, what to do. */
export interface FailureReport {
  code: string;
  message: string;
  fix?: string;
  retryable?: boolean;
}

/** Codes that only wrap another kefu error: the wrapped one says what to fix. */
const WRAPPER_CODES = new Set(['KEFU_SINK_FAILED']);

/**
 * A failure as users need it: the message of the error itself (it names the sink, the
 * stream, the server), with the code and fix of the error it wraps when it only wraps one —
 * a `KEFU_SINK_FAILED` around `SINK_DB_UNAVAILABLE` is fixed by what the database says.
 */
export function failureReport(error: unknown): FailureReport {
  if (!isKefuError(error)) {
    return { code: 'UNEXPECTED', message: redactText(error instanceof Error ? error.message : String(error)) };
  }
  let root: KefuError = error;
  while (WRAPPER_CODES.has(root.code) && isKefuError(root.cause)) root = root.cause;
  const fix = root.fix ?? error.fix;
  return {
    code: root.code,
    message: error.message,
    ...(fix ? { fix } : {}),
    retryable: error.retryable,
  };
}
