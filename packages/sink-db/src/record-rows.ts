import {
  CardSchema,
  type JsonValue,
  type KefuRecord,
  KefuRecordSchema,
  LinkSchema,
  LocationSchema,
  MediaSchema,
  MiniProgramSchema,
  QuoteSchema,
} from '@kefu/core';
import { z } from 'zod';
import type { DatabaseDialectName } from './database-url.js';
import { databaseSinkError } from './errors.js';
import { COLUMN_LIMITS } from './table-names.js';

/** One row of the records table as the sink inserts it (every value already encoded for the dialect). */
export interface RecordRow {
  provider: string;
  account: string;
  id: string;
  customer: string;
  agent: string | null;
  direction: string;
  kind: string;
  event: string | null;
  text: string | null;
  attachments: string | null;
  at: string;
  raw: string;
}

/** The records-table columns the sink inserts, in parameter order. */
export const RECORD_COLUMNS = [
  'provider',
  'account',
  'id',
  'customer',
  'agent',
  'direction',
  'kind',
  'event',
  'text',
  'attachments',
  'at',
  'raw',
] as const satisfies ReadonlyArray<keyof RecordRow>;

/** The number of bound parameters one record row takes. */
export const RECORD_ROW_PARAMETERS = RECORD_COLUMNS.length;

/** The optional structured parts of a record, stored together in the `attachments` JSON column. */
const AttachmentsSchema = z.object({
  media: MediaSchema.optional(),
  link: LinkSchema.optional(),
  location: LocationSchema.optional(),
  card: CardSchema.optional(),
  miniprogram: MiniProgramSchema.optional(),
  quote: QuoteSchema.optional(),
});
const ATTACHMENT_KEYS = ['media', 'link', 'location', 'card', 'miniprogram', 'quote'] as const;

/** Lone UTF-16 surrogates replaced by U+FFFD (toWellFormed is ES2024, Node >= 20; the project's lib is ES2023). */
function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}

/** PostgreSQL cannot store U+0000 in text or jsonb, nor lone surrogates in jsonb. */
function postgresSafe(text: string): string {
  // The common case, checked natively, allocates nothing.
  if (isWellFormed(text) && !text.includes('\u0000')) return text;
  return wellFormed(text).replaceAll('\u0000', '\uFFFD');
}

/** isWellFormed is ES2024 (Node >= 20); the project's lib is ES2023. */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * JSON text of a value. PostgreSQL's jsonb cannot hold U+0000 or lone surrogates, and
 * MySQL/MariaDB's JSON check refuses a lone surrogate's `\ud800` escape (the whole row was
 * rejected): there those characters become U+FFFD. SQLite keeps the escapes, so its JSON
 * round-trips them exactly.
 */
export function encodeJson(value: unknown, dialect: DatabaseDialectName): string {
  const text = JSON.stringify(value);
  // JSON.stringify writes U+0000 and lone surrogates as \u escapes: without any `\u` in
  // the text there is nothing to replace, and the replacer walk (3× slower) is skipped.
  if (dialect === 'sqlite' || !text.includes('\\u')) return text;
  const safe = dialect === 'postgres' ? postgresSafe : wellFormed;
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'string' ? safe(inner) : inner));
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, what `toISOString` produces for years 0000–9999. */
const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A timestamp in the form the dialect's column stores: TIMESTAMPTZ takes ISO-8601, MySQL
 * DATETIME(3) takes `YYYY-MM-DD HH:MM:SS.mmm` (UTC, the session time zone is +00:00), and
 * SQLite keeps ISO-8601 text with milliseconds, which sorts chronologically.
 */
export function encodeTimestamp(value: string | Date, dialect: DatabaseDialectName): string {
  // Records carry `toISOString` timestamps already: no Date round trip for those.
  if (typeof value === 'string' && value.length === 24 && CANONICAL_ISO.test(value)) {
    return dialect === 'mysql' ? `${value.slice(0, 10)} ${value.slice(11, 23)}` : value;
  }
  const date = typeof value === 'string' ? new Date(value) : value;
  const iso = date.toISOString();
  return dialect === 'mysql' ? iso.slice(0, 23).replace('T', ' ') : iso;
}

/** The ISO-8601 UTC form of a timestamp read back from any dialect. */
export function decodeTimestamp(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') {
    // MySQL with dateStrings returns `YYYY-MM-DD HH:MM:SS.mmm` in UTC.
    const text = /^\d{4}-\d{2}-\d{2} /.test(value) ? `${value.replace(' ', 'T')}Z` : value;
    return new Date(text).toISOString();
  }
  throw databaseSinkError('SINK_DB_SCHEMA', `column "at" holds ${typeof value}, not a timestamp`);
}

function checkLength(record: KefuRecord, field: string, value: string | undefined, limit: number): void {
  // Length in code points, which is how MySQL's VARCHAR(n) counts characters.
  if (value !== undefined && value.length > limit && [...value].length > limit) {
    throw databaseSinkError(
      'SINK_DB_VALUE_INVALID',
      `record ${record.id.slice(0, 64)}: \`${field}\` is longer than ${limit} characters, the column limit`,
      { details: { field, limit } },
    );
  }
}

/** Encodes a record as a row, checking the column limits first so no database truncates silently. */
export function toRecordRow(record: KefuRecord, dialect: DatabaseDialectName): RecordRow {
  for (const field of ['provider', 'account', 'id', 'customer', 'agent'] as const) {
    checkLength(record, field, record[field], COLUMN_LIMITS.key);
  }
  for (const field of ['direction', 'kind', 'event'] as const) {
    checkLength(record, field, record[field], COLUMN_LIMITS.label);
  }
  const attachments: Record<string, unknown> = {};
  let hasAttachments = false;
  for (const key of ATTACHMENT_KEYS) {
    if (record[key] !== undefined) {
      attachments[key] = record[key];
      hasAttachments = true;
    }
  }
  const text = record.text === undefined ? null : dialect === 'postgres' ? postgresSafe(record.text) : record.text;
  const keyText = (value: string) => (dialect === 'postgres' ? postgresSafe(value) : value);
  return {
    provider: keyText(record.provider),
    account: keyText(record.account),
    id: keyText(record.id),
    customer: keyText(record.customer),
    agent: record.agent === undefined ? null : keyText(record.agent),
    direction: record.direction,
    kind: record.kind,
    event: record.event ?? null,
    text,
    attachments: hasAttachments ? encodeJson(attachments, dialect) : null,
    at: encodeTimestamp(record.at, dialect),
    raw: encodeJson(record.raw, dialect),
  };
}

/** A records-table row as the drivers return it (JSON columns are text except jsonb on PostgreSQL). */
export const StoredRecordRowSchema = z.object({
  provider: z.string(),
  account: z.string(),
  id: z.string(),
  customer: z.string(),
  agent: z.string().nullable(),
  direction: z.string(),
  kind: z.string(),
  event: z.string().nullable(),
  text: z.string().nullable(),
  attachments: z.unknown(),
  at: z.union([z.string(), z.date()]),
  raw: z.unknown(),
});
/** A records-table row as read. */
export type StoredRecordRow = z.infer<typeof StoredRecordRowSchema>;

function decodeJson(value: unknown, dialect: DatabaseDialectName, column: string): unknown {
  // pg parses jsonb itself; MySQL and SQLite hand back the JSON text.
  if (dialect === 'postgres' || value === null) return value;
  if (typeof value !== 'string') {
    throw databaseSinkError('SINK_DB_SCHEMA', `column "${column}" holds ${typeof value}, not JSON text`);
  }
  try {
    return JSON.parse(value) as unknown;
  } catch (cause) {
    throw databaseSinkError('SINK_DB_SCHEMA', `column "${column}" holds text that is not JSON`, { cause });
  }
}

/** Turns a stored row back into the record it came from. */
export function fromStoredRow(input: unknown, dialect: DatabaseDialectName): KefuRecord {
  const parsedRow = StoredRecordRowSchema.safeParse(input);
  if (!parsedRow.success) {
    throw databaseSinkError(
      'SINK_DB_SCHEMA',
      `a records row does not have the expected columns: ${parsedRow.error.message}`,
    );
  }
  const row = parsedRow.data;
  const attachments = AttachmentsSchema.safeParse(decodeJson(row.attachments, dialect, 'attachments') ?? {});
  if (!attachments.success) {
    throw databaseSinkError('SINK_DB_SCHEMA', `record ${row.id}: column "attachments" does not match the record model`);
  }
  const candidate: Record<string, unknown> = {
    id: row.id,
    provider: row.provider,
    account: row.account,
    customer: row.customer,
    ...(row.agent === null ? {} : { agent: row.agent }),
    direction: row.direction,
    kind: row.kind,
    ...(row.event === null ? {} : { event: row.event }),
    ...(row.text === null ? {} : { text: row.text }),
    ...attachments.data,
    at: decodeTimestamp(row.at),
    raw: decodeJson(row.raw, dialect, 'raw') as JsonValue,
  };
  const record = KefuRecordSchema.safeParse(candidate);
  if (!record.success) {
    const issue = record.error.issues[0];
    throw databaseSinkError(
      'SINK_DB_SCHEMA',
      `record ${row.id} read back does not match the record model: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return record.data;
}
