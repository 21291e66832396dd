import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { JsonValue, KefuRecord } from '@kefu/core';
import { CSV_COLUMNS } from '../src/index.js';

/** Every file under `dir`, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A strict RFC 4180 parser: throws on an unterminated quote or a stray character after one. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let index = 0;
  let quoted = false;
  while (index < text.length) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 2;
      } else if (char === '"') {
        quoted = false;
        index += 1;
        const next = text[index];
        if (next !== ',' && next !== '\r' && next !== undefined) throw new Error(`stray ${next} after quote`);
      } else {
        cell += char;
        index += 1;
      }
    } else if (char === '"' && cell === '') {
      quoted = true;
      index += 1;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
      index += 1;
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index += 2;
    } else {
      cell += char;
      index += 1;
    }
  }
  if (quoted) throw new Error('unterminated quoted cell');
  if (cell !== '' || row.length > 0) throw new Error('last row is not terminated by CRLF');
  return rows;
}

/** Decodes one file (gunzip when `.gz`) into records; throws if any part does not parse. */
export async function readRecordsOf(path: string): Promise<KefuRecord[]> {
  let bytes = await readFile(path);
  // A writer killed right after opening a rotated file (or whose first member was torn and
  // cut by repair) leaves an empty file: no records, although gunzip calls it truncated.
  if (bytes.length === 0) return [];
  if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = bytes.toString('utf8');
  if (path.endsWith('.csv') || path.endsWith('.csv.gz') || /\.csv\b/.test(path)) {
    const [header, ...rows] = parseCsv(text);
    if (header && header.join(',') !== CSV_COLUMNS.join(',')) throw new Error(`bad header ${header.join(',')}`);
    return rows.map((cells) => {
      const cell = (name: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(name)] ?? '';
      const record: Record<string, unknown> = {
        id: cell('id'),
        provider: cell('provider'),
        account: cell('account'),
        customer: cell('customer'),
        direction: cell('direction'),
        kind: cell('kind'),
        at: cell('at'),
        raw: JSON.parse(cell('raw')) as JsonValue,
      };
      if (cell('text') !== '') record.text = cell('text');
      if (cell('agent') !== '') record.agent = cell('agent');
      if (cell('event') !== '') record.event = cell('event');
      return record as unknown as KefuRecord;
    });
  }
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${path} does not end with a newline`);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as KefuRecord);
}

/** Every record stored under `dir`, file by file in path order. */
export async function readAllRecords(dir: string): Promise<KefuRecord[]> {
  const out: KefuRecord[] = [];
  for (const path of await listFiles(dir)) out.push(...(await readRecordsOf(path)));
  return out;
}
