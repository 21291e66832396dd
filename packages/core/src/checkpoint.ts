import { z } from 'zod';
import { JsonValueSchema } from './record.js';

/**
 * Where a record stream stands. `position` is the provider's own resumable state after
 * a whole page (opaque to everything but the provider; `null` = the start of the query),
 * and `skip` counts the records of the page that follows it which were already
 * delivered. Resuming from a checkpoint yields exactly the records after it.
 */
export const CheckpointSchema = z.object({
  provider: z.string().min(1),
  account: z.string().min(1),
  position: JsonValueSchema,
  skip: z.number().int().min(0),
  /** Time of the last record delivered up to this checkpoint (ISO-8601 UTC), for lag. */
  recordAt: z.iso.datetime({ offset: false }).optional(),
  /**
   * The range the sync storing this checkpoint was asked for, and whether it got to its
   * end: a sync that was stopped (Ctrl-C) resumes that range, not the next run's default.
   */
  requested: z
    .object({
      from: z.iso.datetime({ offset: false }),
      to: z.iso.datetime({ offset: false }),
      complete: z.boolean().optional(),
    })
    .optional(),
});
/** Where a record stream stands. */
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/**
 * Stores checkpoints by key (the sync pipeline uses `job/provider/account`).
 * Implementations must make `save` atomic: a crash leaves either the old or the new
 * checkpoint, never a torn one.
 */
export interface CheckpointStore {
  /** The stored checkpoint, or `undefined` when the key was never saved. */
  load(key: string): Promise<Checkpoint | undefined>;
  /** Durably replaces the checkpoint for `key`. */
  save(key: string, checkpoint: Checkpoint): Promise<void>;
  /** Releases resources; idempotent. */
  close?(): Promise<void>;
}
