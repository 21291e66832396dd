import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { syncWorkersError } from './errors.js';

/** PostgreSQL identifiers the workers create: plain, short enough for derived index names. */
export const TableNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must match [a-z_][a-z0-9_]* and be at most 48 characters');

/** pg-boss schema names: plain identifiers. */
export const SchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must match [a-z_][a-z0-9_]* and be at most 48 characters');

/** Options of {@link SyncWorker} that are plain values (validated by zod). */
export const SyncWorkerSettingsSchema = z
  .strictObject({
    /** Job name: accounts, jobs and checkpoints are kept per job (checkpoint key `job/provider/account`). */
    job: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'use letters, digits, `_`, `.` and `-`'),
    /** This worker's name in `held_by` and the logs (default `<host>:<pid>:<random>`). */
    workerId: z.string().min(1).max(200).optional(),
    /** Accounts synced at once by this worker (default 2). */
    concurrency: z.number().int().min(1).max(256).default(2),
    /**
     * A running sync's job is failed (and retried by another worker) when its heartbeat is
     * older than this (pg-boss `heartbeatSeconds`, at least 10; default 30). Heartbeats are
     * sent every half of it.
     */
    heartbeatSeconds: z.number().int().min(10).max(3600).default(30),
    /** How often the fleet looks for jobs whose heartbeat stopped (pg-boss supervise; default 10). */
    superviseIntervalSeconds: z.number().int().min(1).max(3600).default(10),
    /** How often an idle worker looks for due jobs, in ms (at least 500; default 1000). */
    pollIntervalMs: z.number().int().min(500).max(600_000).default(1000),
    /** A synced account is due again after this long (default 300); ignored with `resyncCron`. */
    resyncIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(300),
    /** A cron expression (5 fields, UTC unless `resyncTimeZone`) for resyncs instead of an interval. */
    resyncCron: z
      .string()
      .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron expression of 5 (or 6) fields, e.g. "*/15 * * * *"')
      .optional(),
    /** Time zone of `resyncCron` (IANA name, default UTC). */
    resyncTimeZone: z.string().min(1).max(64).default('UTC'),
    /** Retries of a failed sync before the account goes to the dead-letter queue (default 5). */
    retryLimit: z.number().int().min(0).max(100).default(5),
    /** Base of the exponential back-off between retries, in seconds (default 10: 20–40 s, 40–80 s …). */
    retryDelaySeconds: z.number().int().min(1).max(86_400).default(10),
    /** Longest back-off between retries, in seconds (default 3600). */
    retryDelayMaxSeconds: z.number().int().min(1).max(86_400).default(3600),
    /** A sync running longer than this is failed and retried even with a live heartbeat (default 86400, pg-boss's maximum). */
    maxSyncSeconds: z.number().int().min(60).max(86_400).default(86_400),
    /** Seconds after the platform's quota reset (WeChat: midnight Beijing time) an account stopped by 45009 is due (default 60). */
    quotaResetMarginSeconds: z.number().int().min(0).max(86_400).default(60),
    /** Stop when none of this worker's accounts is due or running (`kefu worker --once`), instead of running until stopped. */
    once: z.boolean().default(false),
    /** The account registry table (default `kefu_work_accounts`). */
    table: TableNameSchema.default('kefu_work_accounts'),
    /** The PostgreSQL schema of pg-boss's tables (default `kefu_jobs`). */
    schema: SchemaNameSchema.default('kefu_jobs'),
  })
  .superRefine((settings, context) => {
    if (settings.retryDelayMaxSeconds < settings.retryDelaySeconds) {
      context.addIssue({
        code: 'custom',
        path: ['retryDelayMaxSeconds'],
        message: 'must not be shorter than retryDelaySeconds',
      });
    }
  });
/** Worker settings as written (defaults optional). */
export type SyncWorkerSettingsInput = z.input<typeof SyncWorkerSettingsSchema>;
/** Validated worker settings. */
export type SyncWorkerSettings = z.output<typeof SyncWorkerSettingsSchema>;

/** Validates worker settings, throwing WORKERS_CONFIG_INVALID naming the option. */
export function parseSyncWorkerSettings(input: unknown): SyncWorkerSettings {
  return parseConfig(SyncWorkerSettingsSchema, input, 'sync worker', (message, details) =>
    syncWorkersError('WORKERS_CONFIG_INVALID', message, { details }),
  );
}
