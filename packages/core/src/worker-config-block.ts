import { z } from 'zod';

/**
 * The `worker` block of a config file: how `kefu worker` schedules the job's accounts on
 * pg-boss. Command-line flags override each value. @kefu/sync-workers validates the
 * combination again (e.g. the back-off cap against the delay).
 */
export const WorkerConfigSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).optional().describe('Accounts one worker syncs at once (default 2).'),
  resyncIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional()
    .describe('A synced account is due again after this long (default 300).'),
  resyncCron: z
    .string()
    .min(1)
    .optional()
    .describe('Resync on a cron schedule instead ("*/15 * * * *"); replaces resyncIntervalSeconds.'),
  resyncTimeZone: z.string().min(1).optional().describe('Time zone of resyncCron (IANA name, default UTC).'),
  heartbeatSeconds: z
    .number()
    .int()
    .min(10)
    .max(3600)
    .optional()
    .describe(
      "A dead worker's account is failed and retried elsewhere after this long without a heartbeat (default 30).",
    ),
  superviseIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe('How often the fleet looks for jobs whose heartbeat stopped (default 10).'),
  retryLimit: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe('Retries of a failed sync before the account is dead-lettered (default 5).'),
  retryDelaySeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .optional()
    .describe('Base of the exponential back-off between retries (default 10).'),
  retryDelayMaxSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .optional()
    .describe('Longest back-off between retries (default 3600).'),
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must match [a-z_][a-z0-9_]* and be at most 48 characters')
    .optional()
    .describe('The account registry table (default kefu_work_accounts).'),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must match [a-z_][a-z0-9_]* and be at most 48 characters')
    .optional()
    .describe("The PostgreSQL schema of pg-boss's job tables (default kefu_jobs)."),
  metricsPort: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .optional()
    .describe('Serve Prometheus metrics on this port (GET /metrics; 0 = random); unset, none.'),
});
/** The `worker` block as validated. */
export type WorkerConfig = z.output<typeof WorkerConfigSchema>;
