import { z } from 'zod';

/**
 * The `serve` block of a config file: what `kefu serve` listens on, where pushes are
 * spooled, the limits every receiver gets, and the scheduled backfill.
 */
export const ServeConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on (behind a reverse proxy: 127.0.0.1).'),
  port: z.number().int().min(0).max(65_535).default(8080).describe('TCP port.'),
  spool: z
    .strictObject({
      path: z
        .string()
        .min(1)
        .default('kefu-spool.sqlite')
        .describe(
          'The SQLite file pushes are made durable in before they are acknowledged (relative to the config file).',
        ),
      dedupeWindowHours: z
        .number()
        .positive()
        .default(168)
        .describe('How long pushes and record ids are remembered to drop retries, replays and backfilled copies.'),
    })
    .default({ path: 'kefu-spool.sqlite', dedupeWindowHours: 168 }),
  limits: z
    .strictObject({
      maxBodyBytes: z.number().int().positive().default(1_048_576).describe('Largest request body; larger gets 413.'),
      headersTimeoutMs: z.number().int().positive().default(5_000).describe('Time to send the request headers.'),
      bodyTimeoutMs: z
        .number()
        .int()
        .positive()
        .default(5_000)
        .describe('Time to send the whole request (slow clients are cut).'),
      maxConnections: z.number().int().positive().default(512).describe('Open connections at most; more are refused.'),
      ackDeadlineMs: z
        .number()
        .int()
        .positive()
        .default(4_000)
        .describe(
          'A push not stored within this long gets no acknowledgement (WeChat gives up after 5 s and retries).',
        ),
    })
    .default({
      maxBodyBytes: 1_048_576,
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 5_000,
      maxConnections: 512,
      ackDeadlineMs: 4_000,
    }),
  backfill: z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .positive()
        .default(300)
        .describe('Time between incremental syncs of every account.'),
      lookback: z
        .string()
        .min(1)
        .default('1d')
        .describe("Range of a target's first sync (`1d`, `7d`, an ISO date); later syncs resume their checkpoints."),
      enabled: z.boolean().default(true),
    })
    .optional()
    .describe('Scheduled incremental backfill through the sync pipeline and its checkpoints.'),
  media: z
    .strictObject({
      dir: z.string().min(1).default('media').describe('Directory of the media archive (relative to the config file).'),
      concurrency: z.number().int().positive().default(4).describe('Downloads at once.'),
      attempts: z.number().int().positive().default(5).describe('Tries per medium before it counts as failed.'),
    })
    .optional()
    .describe('Archive pushed image/voice/video media (WeChat keeps them 3 days) and link them in the records.'),
});
/** The validated `serve` block. */
export type ServeConfig = z.output<typeof ServeConfigSchema>;
/** The `serve` block as written. */
export type ServeConfigInput = z.input<typeof ServeConfigSchema>;
