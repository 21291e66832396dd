import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { syncWorkersError } from './errors.js';

/** PostgreSQL identifiers the workers create: plain, short enough for derived index names. */
export const TableNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must match [a-z_][a-z0-9_]* and be at most 48 characters');

/** Options of {@link SyncWorker} that are plain values (validated by zod). */
export const SyncWorkerSettingsSchema = z
  .strictObject({
    /** Job name: accounts, leases and checkpoints are kept per job (checkpoint key `job/provider/account`). */
    job: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'use letters, digits, `_`, `.` and `-`'),
    /** This worker's name in `lease_owner` (default `<host>:<pid>:<random>`). */
    workerId: z.string().min(1).max(200).optional(),
    /** Accounts synced at once by this worker (default 2). */
    concurrency: z.number().int().min(1).max(256).default(2),
    /** A lease not renewed for this long expires and another worker takes the account (default 60). */
    leaseSeconds: z.number().int().min(2).max(86_400).default(60),
    /** How often held leases are renewed (default: a third of leaseSeconds). */
    heartbeatSeconds: z.number().positive().optional(),
    /** How often an idle worker looks for due accounts, in ms (default 1000). */
    pollIntervalMs: z.number().int().min(10).max(600_000).default(1000),
    /** A synced account is due again after this long (default 300). */
    resyncIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(300),
    /** A failed account is due again after this long (default 60). */
    retryDelaySeconds: z.number().int().min(0).max(86_400).default(60),
    /** An account stopped by the platform's daily quota is due again after this long (default 3600). */
    quotaRetryDelaySeconds: z
      .number()
      .int()
      .min(0)
      .max(2 * 86_400)
      .default(3600),
    /** Stop when no account is due or leased (`kefu worker --once`), instead of running until stopped. */
    once: z.boolean().default(false),
    /** The work table (default `kefu_work_accounts`). */
    table: TableNameSchema.default('kefu_work_accounts'),
  })
  .superRefine((settings, context) => {
    if (settings.heartbeatSeconds !== undefined && settings.heartbeatSeconds >= settings.leaseSeconds) {
      context.addIssue({
        code: 'custom',
        path: ['heartbeatSeconds'],
        message: 'must be shorter than leaseSeconds, or leases expire between renewals',
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
