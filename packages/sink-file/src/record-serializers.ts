import type { KefuRecord } from '@kefu/core';

/** The CSV columns, in order. `raw` holds the platform payload as JSON; empty cells = absent. */
export const CSV_COLUMNS = [
  'id',
  'provider',
  'account',
  'customer',
  'agent',
  'direction',
  'kind',
  'event',
  'text',
  'media_url',
  'media_key',
  'at',
  'raw',
] as const;

/** One CSV column name. */
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** One JSON Lines line (LF-terminated); JSON escapes every control character. */
export function jsonlLine(record: KefuRecord): string {
  return `${JSON.stringify(record)}\n`;
}

// RFC 4180 requires quotes around `"`, `,`, CR and LF; other control characters and
// edge spaces are quoted too so spreadsheet tools keep them verbatim.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point here.
const NEEDS_QUOTES = /[",\u0000-\u001f\u007f]|^\s|\s$/;

/** Quotes one CSV cell per RFC 4180 when needed (inner quotes doubled). */
export function quoteCsvCell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvCells(record: KefuRecord): string[] {
  return [
    record.id,
    record.provider,
    record.account,
    record.customer,
    record.agent ?? '',
    record.direction,
    record.kind,
    record.event ?? '',
    record.text ?? '',
    record.media?.url ?? '',
    record.media?.key ?? '',
    record.at,
    JSON.stringify(record.raw),
  ];
}

/** The CSV header line (CRLF-terminated, RFC 4180). */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** One CSV row (CRLF-terminated, RFC 4180). */
export function csvRow(record: KefuRecord): string {
  return `${csvCells(record).map(quoteCsvCell).join(',')}\r\n`;
}
