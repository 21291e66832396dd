import type { LogLevel } from '@kefu/core';
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
    const stream = kefu.provider(options.provider).records({
      from,
      to,
      ...(options.account ? { account: options.account } : {}),
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
