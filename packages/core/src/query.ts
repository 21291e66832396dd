import { z } from 'zod';
import { CheckpointSchema } from './checkpoint.js';

/**
 * What to read: a time range `[from, to)` of one account, optionally one customer,
 * optionally resuming from a checkpoint (which then takes precedence over `from`).
 */
export const RecordQuerySchema = z
  .object({
    /** The account (WeChat app id, Youmi wechatId); may be omitted when the provider has one. */
    account: z.string().min(1).optional(),
    from: z.coerce.date(),
    to: z.coerce.date(),
    customer: z.string().min(1).optional(),
    resumeFrom: CheckpointSchema.optional(),
    /** Records per platform request; each provider caps it at the platform's limit. */
    pageSize: z.number().int().positive().optional(),
  })
  .refine((q) => q.from.getTime() <= q.to.getTime(), {
    message: '`from` must not be after `to`',
    path: ['from'],
  });
/** A validated record query. */
export type RecordQuery = z.infer<typeof RecordQuerySchema>;
/** A record query as callers write it (dates may be strings or numbers). */
export type RecordQueryInput = z.input<typeof RecordQuerySchema>;
