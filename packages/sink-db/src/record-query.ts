import type { KefuRecord } from '@kefu/core';
import { z } from 'zod';
import { databaseSinkError } from './errors.js';
import { fromStoredRow, RECORD_COLUMNS } from './record-rows.js';
import type { SinkConnection } from './sink-connection.js';

/** A filter for {@link RecordQuery.queryRecords} and {@link RecordQuery.countRecords}. */
export const RecordFilterSchema = z.object({
  provider: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  customer: z.string().min(1).optional(),
  /** Records at or after this time. */
  from: z.coerce.date().optional(),
  /** Records strictly before this time. */
  to: z.coerce.date().optional(),
  /** At most this many records (default 1000, at most 10000). */
  limit: z.number().int().min(1).max(10_000).default(1000),
  /** Keyset paging: only records after this one (pass the last record of the previous page). */
  after: z
    .object({ at: z.iso.datetime({ offset: false }), provider: z.string(), account: z.string(), id: z.string() })
    .optional(),
});
/** A record filter as callers write it. */
export type RecordFilter = z.input<typeof RecordFilterSchema>;
type ParsedFilter = z.output<typeof RecordFilterSchema>;

/** Reads stored records back: filtered, ordered by time then provider, account and id. */
export class RecordQuery {
  constructor(private readonly connection: SinkConnection) {}

  /** Reads records back, ordered by time then provider, account and id; page with `after`. */
  async queryRecords(filter: RecordFilter = {}): Promise<KefuRecord[]> {
    const connection = this.connection;
    connection.assertOpen();
    const parsed = parseFilter(filter);
    await connection.migrate();
    const rows = await connection.run(`querying ${connection.names.records}`, () => {
      let query = this.#filtered(parsed)
        .select([...RECORD_COLUMNS])
        .orderBy('at')
        .orderBy('provider')
        .orderBy('account')
        .orderBy('id')
        .limit(parsed.limit);
      const after = parsed.after;
      if (after) {
        query = query.where((eb) =>
          eb(
            eb.refTuple('at', 'provider', 'account', 'id'),
            '>',
            eb.tuple(connection.timestamp(after.at), after.provider, after.account, after.id),
          ),
        );
      }
      return query.execute();
    });
    return rows.map((row) => fromStoredRow(row, connection.dialect.name));
  }

  /** How many records match the filter (`limit` and `after` are ignored). */
  async countRecords(filter: Omit<RecordFilter, 'limit' | 'after'> = {}): Promise<number> {
    const connection = this.connection;
    connection.assertOpen();
    const parsed = parseFilter(filter);
    await connection.migrate();
    const row = await connection.run(`counting ${connection.names.records}`, () =>
      this.#filtered(parsed)
        .select((eb) => eb.fn.countAll().as('count'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.count);
  }

  #filtered(filter: ParsedFilter) {
    const connection = this.connection;
    let query = connection.scoped(connection.db).selectFrom(connection.tables.records);
    if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
    if (filter.account !== undefined) query = query.where('account', '=', filter.account);
    if (filter.customer !== undefined) query = query.where('customer', '=', filter.customer);
    if (filter.from !== undefined) query = query.where('at', '>=', connection.timestamp(filter.from));
    if (filter.to !== undefined) query = query.where('at', '<', connection.timestamp(filter.to));
    return query;
  }
}

function parseFilter(filter: RecordFilter): ParsedFilter {
  const parsed = RecordFilterSchema.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw databaseSinkError('SINK_DB_QUERY_INVALID', `record filter: \`${issue?.path.join('.')}\` ${issue?.message}`);
  }
  return parsed.data;
}
