import {
  type Checkpoint,
  CheckpointSchema,
  type CheckpointStore,
  isEmptyCheckpoint,
  type RecordBatch,
  type ResettableCheckpointStore,
} from '@kefu/core';
import type { CompiledQuery, Transaction } from 'kysely';
import { z } from 'zod';
import { databaseSinkError } from './errors.js';
import type { SinkConnection, SinkTables } from './sink-connection.js';
import { COLUMN_LIMITS } from './table-names.js';

/**
 * The checkpoint table: one JSON checkpoint per key. The sink writes a batch's checkpoint
 * inside the batch's transaction ({@link upsertIn}); the store methods run on their own.
 */
export class CheckpointTable implements CheckpointStore, ResettableCheckpointStore {
  constructor(private readonly connection: SinkConnection) {}

  /** The checkpoint stored under `key`, or undefined. */
  async load(key: string): Promise<Checkpoint | undefined> {
    const connection = this.#open();
    checkKey(key);
    await connection.migrate();
    const row = await connection.runRetrying(`reading checkpoint ${key} from ${connection.names.checkpoints}`, () =>
      connection
        .scoped(connection.db)
        .selectFrom(connection.tables.checkpoints)
        .select('value')
        .where('checkpoint_key', '=', key)
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : this.#parseStored(key, row.value);
  }

  /** Every stored checkpoint, by key. */
  async entries(): Promise<Array<[string, Checkpoint]>> {
    const connection = this.#open();
    await connection.migrate();
    const rows = await connection.run(`listing checkpoints in ${connection.names.checkpoints}`, () =>
      connection
        .scoped(connection.db)
        .selectFrom(connection.tables.checkpoints)
        .select(['checkpoint_key', 'value'])
        .orderBy('checkpoint_key')
        .execute(),
    );
    return rows.map((row) => [row.checkpoint_key, this.#parseStored(row.checkpoint_key, row.value)]);
  }

  /** Forgets the checkpoint under `key`; true when it existed. */
  async delete(key: string): Promise<boolean> {
    const connection = this.#open();
    checkKey(key);
    await connection.migrate();
    const result = await connection.transact(`deleting checkpoint ${key} from ${connection.names.checkpoints}`, (trx) =>
      connection
        .scoped(trx)
        .deleteFrom(connection.tables.checkpoints)
        .where('checkpoint_key', '=', key)
        .executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  /** Durably replaces the checkpoint under `key` (one atomic upsert). */
  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    const connection = this.#open();
    const value = this.encode(key, checkpoint, undefined);
    await connection.migrate();
    await connection.transact(`saving checkpoint ${key} to ${connection.names.checkpoints}`, (trx) =>
      this.upsertIn(trx, key, value),
    );
  }

  /**
   * The stored form of a checkpoint, validated; with `batch`, also that it belongs to the
   * batch's stream (errors then say the batch is invalid).
   */
  encode(key: string, checkpoint: Checkpoint, batch: RecordBatch | undefined): string {
    checkKey(key);
    const parsed = CheckpointSchema.safeParse(checkpoint);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw databaseSinkError(
        batch ? 'SINK_DB_BATCH_INVALID' : 'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint for ${key} is invalid: ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    if (batch && (parsed.data.provider !== batch.stream.provider || parsed.data.account !== batch.stream.account)) {
      throw databaseSinkError(
        'SINK_DB_BATCH_INVALID',
        `batch for ${batch.stream.provider}/${batch.stream.account} carries a checkpoint of ${parsed.data.provider}/${parsed.data.account}`,
      );
    }
    return JSON.stringify(parsed.data);
  }

  /** The upsert statement of an encoded checkpoint, for a transaction built elsewhere. */
  upsertStatement(key: string, value: string): CompiledQuery {
    const { dialect, names } = this.connection;
    return dialect.upsertCheckpoint(names, key, value, this.connection.timestamp(new Date()));
  }

  /** Upserts an encoded checkpoint inside `trx`, refusing to replace progress with an empty checkpoint. */
  async upsertIn(trx: Transaction<SinkTables>, key: string, value: string): Promise<void> {
    const connection = this.connection;
    if (isEmptyCheckpoint(JSON.parse(value) as Checkpoint)) {
      // Never replace stored progress with "the start of the stream" (the most reported
      // state bug of record movers); delete the key to restart a stream on purpose.
      const stored = await connection
        .scoped(trx)
        .selectFrom(connection.tables.checkpoints)
        .select('value')
        .where('checkpoint_key', '=', key)
        .executeTakeFirst();
      if (stored !== undefined && !isEmptyCheckpoint(this.#parseStored(key, stored.value))) {
        throw databaseSinkError(
          'SINK_DB_CHECKPOINT_INVALID',
          `refusing to overwrite the stored checkpoint of ${key} with an empty one; delete the key to restart that stream from \`from\``,
        );
      }
      // An empty one over an empty one: its range (`requested`) may have changed.
    }
    await trx.executeQuery(this.upsertStatement(key, value));
  }

  #open(): SinkConnection {
    this.connection.assertOpen();
    return this.connection;
  }

  #parseStored(key: string, value: unknown): Checkpoint {
    const table = this.connection.names.checkpoints;
    let parsed: unknown;
    try {
      parsed = JSON.parse(z.string().parse(value));
    } catch (cause) {
      throw databaseSinkError('SINK_DB_CHECKPOINT_INVALID', `checkpoint ${key} in ${table} is not JSON`, { cause });
    }
    const checkpoint = CheckpointSchema.safeParse(parsed);
    if (!checkpoint.success) {
      throw databaseSinkError(
        'SINK_DB_CHECKPOINT_INVALID',
        `checkpoint ${key} in ${table} does not match the checkpoint schema: ${checkpoint.error.issues[0]?.message}`,
      );
    }
    return checkpoint.data;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || [...key].length > COLUMN_LIMITS.key) {
    throw databaseSinkError(
      'SINK_DB_CHECKPOINT_INVALID',
      `checkpoint key must be 1 to ${COLUMN_LIMITS.key} characters, got ${typeof key === 'string' ? key.length : typeof key}`,
    );
  }
}
