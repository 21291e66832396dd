import { resolve } from 'node:path';
import { readKefuConfigFile } from '@kefu/core';
import { type AccountStatus, FleetAdmin, type FleetStatus, openWorkerPool } from '@kefu/sync-workers';
import { usageError } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { databaseSinkOf } from './worker-command.js';

/** The operator commands of `kefu worker`. */
export const WORKER_ADMIN_ACTIONS = ['status', 'retry', 'pause', 'resume'] as const;
/** One of {@link WORKER_ADMIN_ACTIONS}. */
export type WorkerAdminAction = (typeof WORKER_ADMIN_ACTIONS)[number];

/** Flags of `kefu worker status|retry|pause|resume`. */
export interface WorkerAdminOptions {
  config: string;
  job: string;
  database?: string;
  /** JSON even on a terminal (JSON is the default when stdout is not one). */
  json?: boolean;
}

const ago = (seconds: number | null) => {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
};
const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
const clip = (text: string | null, width: number) =>
  !text ? '-' : text.length > width ? `${text.slice(0, width - 1)}…` : text;

/** The status as a table for people: a summary line, then one row per account. */
export function formatFleetTable(status: FleetStatus): string {
  const counts = Object.entries(status.byState)
    .map(([state, count]) => `${state} ${count}`)
    .join(', ');
  const header = ['ACCOUNT', 'STATE', 'WORKER', 'TRY', 'NEXT/STARTED', 'LAST SYNC', 'LAG', 'SYNCS', 'LAST ERROR'];
  const rows = status.accounts.map((a: AccountStatus) => [
    a.target,
    a.state,
    a.heldBy ?? '-',
    a.attempt === null ? '-' : String(a.attempt),
    shortTime(a.nextDueAt),
    shortTime(a.lastSyncedAt),
    ago(a.lagSeconds),
    String(a.syncs),
    clip(a.lastError, 60),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [
    `job ${status.job}: ${status.accounts.length} accounts (${counts || 'none'})`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

/**
 * `kefu worker status` (table on a terminal, JSON otherwise) and `kefu worker retry|pause|resume ACCOUNT`.
 * They read and change the job's state in PostgreSQL while the fleet runs.
 */
export async function runWorkerAdminCommand(
  action: WorkerAdminAction,
  account: string | undefined,
  options: WorkerAdminOptions,
  io: CliIo,
): Promise<ExitCodeValue> {
  if (action !== 'status' && !account) {
    throw usageError(
      `kefu worker ${action} needs an account`,
      `kefu worker ${action} <provider/account> -c kefu.yaml --job <job>`,
    );
  }
  const config = await readKefuConfigFile(resolve(io.cwd, options.config), { env: io.env });
  const database = databaseSinkOf(config.sinks, options.database);
  const pool = openWorkerPool(database.url, { max: 3, ...database.timeouts });
  const admin = new FleetAdmin({
    pool,
    job: options.job,
    ...(config.worker?.table ? { table: config.worker.table } : {}),
    ...(config.worker?.schema ? { schema: config.worker.schema } : {}),
    ...(config.worker?.retryLimit !== undefined ? { retryLimit: config.worker.retryLimit } : {}),
  });
  const asJson = options.json === true || io.stdout.isTTY !== true;
  try {
    if (action === 'status') {
      const status = await admin.status();
      io.stdout.write(asJson ? `${JSON.stringify(status)}\n` : `${formatFleetTable(status)}\n`);
      return ExitCode.Ok;
    }
    const target = account ?? '';
    const changed =
      action === 'retry'
        ? await admin.retry(target)
        : action === 'pause'
          ? await admin.pause(target)
          : await admin.resume(target);
    io.stdout.write(
      asJson
        ? `${JSON.stringify({ action, account: changed })}\n`
        : `${action} ${changed.target}: now ${changed.state}${changed.nextDueAt ? ` (due ${shortTime(changed.nextDueAt)})` : ''}\n`,
    );
    return ExitCode.Ok;
  } finally {
    await admin.close();
    await pool.end();
  }
}
