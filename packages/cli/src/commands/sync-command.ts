import {
  type KefuLogger,
  type LogLevel,
  redactText,
  redactValue,
  type SyncSummary,
  type SyncTargetSummary,
} from '@kefu/core';
import { failureReport } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
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
  /** Unset: the config's `logger.level`, else warn on a terminal (the progress block shows the rest), info elsewhere. */
  logLevel?: LogLevel;
}

/** The range synced by a target's first sync when `--from` is not given (later syncs resume their own). */
const DEFAULT_LOOKBACK = '7d';

/** The exit code a finished sync maps to: stopped 130, any failure 1, any quota stop 3, else 0. */
export function exitCodeOfSummary(summary: SyncSummary): ExitCodeValue {
  if (summary.stopped) return ExitCode.Interrupted;
  if (summary.targets.some((t) => t.status === 'failed')) return ExitCode.Failed;
  if (summary.targets.some((t) => t.status === 'quota-exhausted')) return ExitCode.QuotaExhausted;
  return ExitCode.Ok;
}

/** Whether a target did not finish and the next run picks it up where it stopped. */
function isResumable(t: SyncTargetSummary): t is SyncTargetSummary & { status: keyof typeof RESUME_HINT } {
  return t.status === 'stopped' || t.status === 'quota-exhausted';
}

/** A target's provider id and account: provider ids cannot contain `/` (config schema), accounts may. */
function targetParts(target: string): { provider: string; account: string } {
  const slash = target.indexOf('/');
  return slash < 0
    ? { provider: target, account: '' }
    : { provider: target.slice(0, slash), account: target.slice(slash + 1) };
}

/**
 * A JSON-safe, secret-free form of the summary: per target its provider and account, counters,
 * warnings, for a failed one its error's code, message and fix, for a stopped one
 * `resumable: true` and the hint; overall `failed` and `resumable` counts of targets.
 */
export function summaryJson(summary: SyncSummary, options: { dryRun?: boolean } = {}): Record<string, unknown> {
  return redactValue({
    records: summary.records,
    durationMs: summary.durationMs,
    stopped: summary.stopped,
    ...(options.dryRun ? { dryRun: true } : {}),
    failed: summary.targets.filter((t) => t.status === 'failed').length,
    resumable: summary.targets.filter(isResumable).length,
    targets: summary.targets.map((t) => ({
      target: t.target,
      ...targetParts(t.target),
      status: t.status,
      records: t.records,
      pages: t.pages,
      retries: t.retries,
      errors: t.errors,
      invalidRecords: t.invalidRecords,
      ...(t.lagMs === undefined ? {} : { lagMs: t.lagMs }),
      ...(t.range ? { range: t.range } : {}),
      ...(t.checkpoint ? { checkpoint: t.checkpoint } : {}),
      ...(t.error !== undefined ? { error: failureReport(t.error) } : {}),
      ...(isResumable(t) ? { resumable: true, resume: RESUME_HINT[t.status] } : {}),
      warnings: t.warnings,
    })),
  }) as Record<string, unknown>;
}

/** What to do about a target that did not finish. */
const RESUME_HINT = {
  stopped: 'run again to resume',
  'quota-exhausted': "run again after the platform's daily quota resets to resume",
} as const;

/** Indent of the lines under a target's line (its warnings and error). */
const DETAIL_INDENT = ' '.repeat(18);

/**
 * A target's summary as text: one line of counts (with the invalid records left out and
 * the warnings), "run again to resume" for one that did not finish, then its distinct
 * warnings, and for one that did not end `done` its error's code, message and fix.
 */
export function targetSummaryLines(t: SyncTargetSummary): string[] {
  const invalid =
    t.invalidRecords > 0 ? `, ${t.invalidRecords} invalid record${t.invalidRecords === 1 ? '' : 's'} left out` : '';
  const warnings = t.warnings.count > 0 ? `, ${t.warnings.count} warning${t.warnings.count === 1 ? '' : 's'}` : '';
  const notStarted = t.status === 'stopped' && t.pages === 0 && t.records === 0;
  const hint =
    t.status === 'stopped' || t.status === 'quota-exhausted'
      ? ` — ${notStarted ? 'not started; ' : ''}${RESUME_HINT[t.status]}`
      : '';
  const lines = [
    `${t.status.padEnd(15)} ${t.target}: ${t.records} records, ${t.pages} pages, ${t.retries} retries${invalid}${warnings}${hint}`,
  ];
  for (const warning of t.warnings.distinct) lines.push(`${DETAIL_INDENT}warning ${warning.code}: ${warning.message}`);
  if (t.error !== undefined && t.status !== 'done') {
    const failure = failureReport(t.error);
    lines.push(`${DETAIL_INDENT}error ${failure.code}: ${failure.message}`);
    if (failure.fix) lines.push(`${DETAIL_INDENT}fix: ${failure.fix}`);
  }
  return lines.map((line) => redactText(line));
}

/** The summary for people: {@link targetSummaryLines} per target, then the totals and what did not finish. */
export function summaryText(summary: SyncSummary, options: { dryRun?: boolean } = {}): string {
  const lines = summary.targets.flatMap(targetSummaryLines);
  const failed = summary.targets.filter((t) => t.status === 'failed').length;
  const stopped = summary.targets.filter((t) => t.status === 'stopped' || t.status === 'quota-exhausted').length;
  const verb = options.dryRun ? 'read (dry run)' : 'synced';
  const outcome = [
    failed > 0 ? `${failed} target${failed === 1 ? '' : 's'} failed (see above)` : '',
    stopped > 0 ? `${stopped} stopped (run again to resume)` : '',
  ].filter(Boolean);
  lines.push(
    `${verb} ${summary.records} records in ${(summary.durationMs / 1000).toFixed(1)} s${outcome.length > 0 ? ` — ${outcome.join(', ')}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The summary as one `sync summary` log line: level error when a target failed, else info. */
function writeSummaryLine(logger: KefuLogger, summary: SyncSummary, dryRun: boolean): void {
  const fields = summaryJson(summary, { dryRun });
  if (summary.targets.some((t) => t.status === 'failed')) logger.error('sync summary', fields);
  else logger.info('sync summary', fields);
}

/** `kefu sync`: an incremental sync with progress, then a summary. */
export async function runSyncCommand(options: SyncCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const now = Date.now();
  const to = options.to ? parseTimeArgument('--to', options.to, now) : new Date(now);
  const from = parseTimeArgument('--from', options.from ?? DEFAULT_LOOKBACK, now);
  checkTimeRange(from, to);
  const terminal = io.stderr.isTTY === true;
  // On a terminal, log lines go above the live block (never through it); set once it exists.
  let printAbove: ((line: string) => void) | undefined;
  const kefu = await loadCliRuntime(options.config, io, {
    flag: options.logLevel,
    fallback: terminal ? 'warn' : 'info',
    write: (line) => (printAbove ? printAbove(line) : io.stderr.write(`${line}\n`)),
  });
  const logger = kefu.logger;
  try {
    const run = kefu.sync({
      from,
      // Without --from, a target resuming a stopped sync's range is not warned about the default.
      fromIsDefault: options.from === undefined,
      to,
      ...(options.provider ? { providers: options.provider } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      dryRun: options.dryRun ?? false,
      handleProcessSignals: true,
    });
    const renderer = new ProgressRenderer({ output: io.stderr, logger, from, to });
    if (renderer.interactive) printAbove = (line) => renderer.printAbove(line);
    const subscription = run.progress$.subscribe((event) => renderer.update(event));
    const summary = await run.done;
    subscription.unsubscribe();
    renderer.finish();
    printAbove = undefined;
    const dryRun = options.dryRun ?? false;
    if (options.json) io.stdout.write(`${JSON.stringify(summaryJson(summary, { dryRun }))}\n`);
    else if (terminal) io.stderr.write(summaryText(summary, { dryRun }));
    // Without a terminal stderr carries JSON lines only: the summary is one of them, in the
    // log line format (secrets redacted), from a logger of its own so --log-level never hides it.
    else writeSummaryLine(cliLogger(io, 'info'), summary, dryRun);
    return exitCodeOfSummary(summary);
  } finally {
    await kefu.close();
  }
}
