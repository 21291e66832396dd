import { didYouMean, type KefuProvider, type LogLevel } from '@kefu/core';
import { usageError } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { NdjsonOutput } from '../ndjson-output.js';
import { checkTimeRange, parseTimeArgument } from '../time-arguments.js';
import { loadCliRuntime } from './cli-runtime.js';

/** Flags of `kefu records`. */
export interface RecordsCommandOptions {
  config: string;
  provider: string;
  from: string;
  to?: string;
  account?: string;
  customer?: string;
  limit?: number;
  /** Unset: the config's `logger.level`, else warn (stdout is for records). */
  logLevel?: LogLevel;
}

/**
 * The account to read: `--account` if given (checked against the provider's), else the
 * provider's only account; with several, a usage error lists them and names `--account`.
 */
export function chooseAccount(provider: KefuProvider, wanted: string | undefined): string {
  const accounts = provider.accounts();
  if (wanted !== undefined) {
    if (accounts.includes(wanted)) return wanted;
    throw usageError(
      `--account ${wanted}: provider ${provider.id} has no such account${didYouMean(wanted, accounts)}`,
      `pass one of: --account ${accounts.join(' | --account ')}`,
    );
  }
  if (accounts.length === 1) return accounts[0] as string;
  if (accounts.length === 0) {
    throw usageError(`provider ${provider.id} has no accounts configured`, 'add an account to its config');
  }
  throw usageError(
    `provider ${provider.id} serves ${accounts.length} accounts (${accounts.join(', ')}): choose one with --account`,
    `kefu records --provider ${provider.id} --account ${accounts[0]} …`,
  );
}

/**
 * `kefu records`: streams records as NDJSON on stdout. It pulls pages only as fast as
 * stdout drains, and stops fetching as soon as the reader closes the pipe (`| head`).
 */
export async function runRecordsCommand(options: RecordsCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const now = Date.now();
  const from = parseTimeArgument('--from', options.from, now);
  const to = options.to ? parseTimeArgument('--to', options.to, now) : new Date(now);
  checkTimeRange(from, to);
  const kefu = await loadCliRuntime(options.config, io, { flag: options.logLevel, fallback: 'warn' });
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const output = new NdjsonOutput(io.stdout);
  let written = 0;
  try {
    const provider = kefu.provider(options.provider);
    const stream = provider.records({
      from,
      to,
      account: chooseAccount(provider, options.account),
      ...(options.customer ? { customer: options.customer } : {}),
    });
    pages: for await (const page of stream.pages({ signal: controller.signal })) {
      for (const record of page.records) {
        if (output.closed || (options.limit !== undefined && written >= options.limit)) break pages;
        await output.write(record);
        written += 1;
      }
    }
    return ExitCode.Ok;
  } catch (error) {
    // A reader that went away or a Ctrl+C is a normal end for a pipe tool.
    if (output.closed) return ExitCode.Ok;
    if (controller.signal.aborted) return ExitCode.Interrupted;
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await kefu.close();
  }
}
