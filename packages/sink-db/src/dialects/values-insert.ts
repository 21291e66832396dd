import { CompiledQuery } from 'kysely';
import { RECORD_COLUMNS, type RecordRow } from '../record-rows.js';

/**
 * Multi-row `INSERT … VALUES (…), (…)` statements for one table, the SQL text built once
 * per row count. The hot path bypasses the query builder: building a 500-row AST per batch
 * cost more than the database's own work on SQLite (see bench/).
 */
export class ValuesInsert {
  readonly #cache = new Map<number, string>();

  /**
   * @param head `insert into <table> (<columns>) values`
   * @param tail the conflict clause after the rows
   * @param numbered PostgreSQL-style `$n` placeholders instead of `?`
   */
  constructor(
    private readonly head: string,
    private readonly tail: string,
    private readonly numbered: boolean,
  ) {}

  /** The statement inserting `rows`, in the order given. */
  query(rows: readonly RecordRow[]): CompiledQuery {
    const parameters: unknown[] = [];
    for (const row of rows) {
      for (const column of RECORD_COLUMNS) parameters.push(row[column]);
    }
    return CompiledQuery.raw(this.#sql(rows.length), parameters);
  }

  #sql(count: number): string {
    let text = this.#cache.get(count);
    if (text !== undefined) return text;
    let parameter = 0;
    const placeholder = () => (this.numbered ? `$${++parameter}` : '?');
    const rowsSql = Array.from({ length: count }, () => `(${RECORD_COLUMNS.map(placeholder).join(', ')})`).join(', ');
    text = `${this.head} ${rowsSql} ${this.tail}`;
    if (this.#cache.size >= 16) this.#cache.clear();
    this.#cache.set(count, text);
    return text;
  }
}

/** `insert into <table> (<columns>) values` */
export function insertHead(table: string): string {
  return `insert into ${table} (${RECORD_COLUMNS.join(', ')}) values`;
}

/** Per-table statement builders, so each sink builds its SQL text once. */
export function memoByTable<T>(build: (table: string) => T): (table: string) => T {
  const cache = new Map<string, T>();
  return (table) => {
    let value = cache.get(table);
    if (value === undefined) {
      value = build(table);
      cache.set(table, value);
    }
    return value;
  };
}
