import {
  isKefuError,
  type LogLevel,
  redactText,
  redactValue,
  type SyncSummary,
  type SyncTargetSummary,
} from '@kefu/core';
import type { CliIo } from '../cli.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { ProgressRenderer } from '../progress-renderer.js';
import { checkTimeRange, parseTimeArgument } from '../time-arguments.js';
import { cliLogger, loadCliRuntime } from './cli-runtime.js';

/** Flags of `kefu sync`. */
export interface SyncCommandOptions {
  config: string;
  from?: string;
  to?: string;
  provider?: string[];
  dryRun?: boolean;
  json?: boolean;
  batchSize?: number;
  logLevel: LogLevel;
}

/** The range synced when no checkpoint exists and `--from` is not given. */
const DEFAULT_LOOKBACK = '7d';

/** The exit code a finished sync maps to: stopped 130, any failure 1, any quota stop 3, else 0. */
export function exitCodeOfSummary(summary: SyncSummary): ExitCodeValue {
  if (summary.stopped) return ExitCode.Interrupted;
  if (summary.targets.some((t) => t.status === 'failed')) return ExitCode.Failed;
  if (summary.targets.some((t) => t.status === 'quota-exhausted')) return ExitCode.QuotaExhausted;
  return ExitCode.Ok;
}

/** A JSON-safe, secret-free form of the summary. */
export function summaryJson(summary: SyncSummary): Record<string, unknown> {
  return redactValue({
    records: summary.records,
    durationMs: summary.durationMs,
    stopped: summary.stopped,
    targets: summary.targets.map((t) => ({
      target: t.target,
      status: t.status,
      records: t.records,
      pages: t.pages,
      retries: t.retries,
      errors: t.errors,
      warnings: t.warnings,
      ...(t.lagMs === undefined ? {} : { lagMs: t.lagMs }),
      ...(t.checkpoint ? { checkpoint: t.checkpoint } : {}),
      ...(t.error ? { error: t.error } : {}),
    })),
  }) as Record<string, unknown>;
}

/** Indent of the lines under a target's line (its warnings and error). */
const DETAIL_INDENT = ' '.repeat(18);

/** A target's summary as text: one line of counts, then its distinct warnings and its error, if any. */
export function targetSummaryLines(t: SyncTargetSummary): string[] {
  const warnings = t.warnings.count > 0 ? `, ${t.warnings.count} warning${t.warnings.count === 1 ? '' : 's'}` : '';
  const lines = [
    `${t.status.padEnd(15)} ${t.target}: ${t.records} records, ${t.pages} pages, ${t.retries} retries${warnings}`,
  ];
  for (const warning of t.warnings.distinct) {
    lines.push(redactText(`${DETAIL_INDENT}warning ${warning.code}: ${warning.message}`));
  }
  if (t.error !== undefined && t.status !== 'done') {
    const described = isKefuError(t.error) ? `${t.error.code}: ${t.error.message}` : String(t.error);
    lines.push(`${DETAIL_INDENT}error ${redactText(described)}`);
  }
  return lines;
}

/** `kefu sync`: an incremental sync with progress, then a summary. */
export async function runSyncCommand(options: SyncCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const now = Date.now();
  const to = options.to ? parseTimeArgument('--to', options.to, now) : new Date(now);
  const from = parseTimeArgument('--from', options.from ?? DEFAULT_LOOKBACK, now);
  checkTimeRange(from, to);
  const logger = cliLogger(io, options.logLevel);
  const kefu = await loadCliRuntime(options.config, io, logger);
  try {
    const run = kefu.sync({
      from,
      to,
      ...(options.provider ? { providers: options.provider } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      dryRun: options.dryRun ?? false,
      handleProcessSignals: true,
    });
    const renderer = new ProgressRenderer({ output: io.stderr, logger, from, to });
    const subscription = run.progress$.subscribe((event) => renderer.update(event));
    const summary = await run.done;
    subscription.unsubscribe();
    renderer.finish();
    if (options.json) {
      io.stdout.write(`${JSON.stringify(summaryJson(summary))}\n`);
    } else {
      const lines = summary.targets.flatMap(targetSummaryLines);
      const verb = options.dryRun ? 'read (dry run)' : 'synced';
      io.stderr.write(
        `${lines.join('\n')}\n${verb} ${summary.records} records in ${(summary.durationMs / 1000).toFixed(1)} s\n`,
      );
    }
    return exitCodeOfSummary(summary);
  } finally {
    await kefu.close();
  }
}
