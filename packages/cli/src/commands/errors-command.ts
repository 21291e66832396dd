import { didYouMean } from '@kefu/core';
import { usageError } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ERROR_CATALOGUES, errorsDocument, findErrorCode } from '../error-catalogues.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

/** `kefu errors [CODE] [--markdown]`: what an error code means and how to fix it. */
export async function runErrorsCommand(
  code: string | undefined,
  options: { markdown?: boolean },
  io: CliIo,
): Promise<ExitCodeValue> {
  if (options.markdown) {
    io.stdout.write(errorsDocument());
    return ExitCode.Ok;
  }
  if (code) {
    const entry = findErrorCode(code.trim().toUpperCase());
    if (!entry) {
      const codes = ERROR_CATALOGUES.flatMap(({ catalogue }) => Object.keys(catalogue));
      throw usageError(
        `unknown error code "${code}"${didYouMean(code.trim().toUpperCase(), codes)}`,
        'run `kefu errors` to list every code',
      );
    }
    io.stdout.write(
      `${entry.code} (${entry.packageName})${entry.retryable ? ' — retried automatically' : ''}\n  ${entry.description}\n  fix: ${entry.fix}\n`,
    );
    return ExitCode.Ok;
  }
  for (const { packageName, catalogue } of ERROR_CATALOGUES) {
    io.stdout.write(`${packageName}\n`);
    for (const [name, entry] of Object.entries(catalogue))
      io.stdout.write(`  ${name.padEnd(36)} ${entry.description}\n`);
  }
  return ExitCode.Ok;
}
