import { didYouMean } from '@kefu/core';
import { usageError } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ERROR_CATALOGUES, errorsDocument, findErrorCode, findPlatformCode } from '../error-catalogues.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

type CatalogueEntry = NonNullable<ReturnType<typeof findErrorCode>>;

function describeEntry(entry: CatalogueEntry): string {
  return `${entry.code} (${entry.packageName})${entry.retryable ? ' — retried automatically' : ''}\n  ${entry.description}\n  fix: ${entry.fix}\n`;
}

/**
 * `kefu errors 45009`: the number a platform shows (WeChat errcode, Youmi errmsg) → the
 * kefu codes it becomes.
 */
function printPlatformCode(platformCode: string, io: CliIo): ExitCodeValue {
  const entries = findPlatformCode(platformCode);
  if (entries.length === 0) {
    throw usageError(
      `no kefu error code for platform code ${platformCode}`,
      'an errcode WeChat documents but kefu does not map is WECHAT_UNKNOWN_ERRCODE with `details.errcode`; a Youmi code is YOUMI_API_ERROR with `details.platformCode` (`kefu errors YOUMI_API_ERROR`)',
    );
  }
  io.stdout.write(`platform code ${platformCode} →\n`);
  for (const entry of entries) io.stdout.write(describeEntry(entry));
  return ExitCode.Ok;
}

/** `kefu errors [CODE] [--markdown]`: what an error code (kefu's, or a platform's number) means and how to fix it. */
export async function runErrorsCommand(
  code: string | undefined,
  options: { markdown?: boolean },
  io: CliIo,
): Promise<ExitCodeValue> {
  if (options.markdown) {
    io.stdout.write(errorsDocument());
    return ExitCode.Ok;
  }
  if (code && /^-?\d+$/.test(code.trim())) return printPlatformCode(code.trim(), io);
  if (code) {
    const entry = findErrorCode(code.trim().toUpperCase());
    if (!entry) {
      const codes = ERROR_CATALOGUES.flatMap(({ catalogue }) => Object.keys(catalogue));
      throw usageError(
        `unknown error code "${code}"${didYouMean(code.trim().toUpperCase(), codes)}`,
        'run `kefu errors` to list every code',
      );
    }
    io.stdout.write(describeEntry(entry));
    return ExitCode.Ok;
  }
  for (const { packageName, catalogue } of ERROR_CATALOGUES) {
    io.stdout.write(`${packageName}\n`);
    for (const [name, entry] of Object.entries(catalogue))
      io.stdout.write(`  ${name.padEnd(36)} ${entry.description}\n`);
  }
  return ExitCode.Ok;
}
