import { type FileHandle, open } from 'node:fs/promises';
import { validGzipPrefix } from './gzip-members.js';

/**
 * Crash repair on open. A batch is acknowledged only after its append (and its fsync), so
 * anything after the last complete record is a torn, unacknowledged append: cutting it off
 * never loses an acknowledged record, and it keeps every file parsable after a kill -9 or
 * a power loss. A file cut to 0 bytes holds no records (for `.gz`, `gunzip` calls an empty
 * file truncated; skip it). Complete records before the cut may belong to that unacknowledged batch
 * (a kill can stop a write between pages); the restarted sync writes it again.
 */

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** Position just after the last `\n` before `end`, or 0 when there is none. */
async function afterLastNewline(handle: FileHandle, end: number): Promise<number> {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let high = end;
  while (high > 0) {
    const low = Math.max(0, high - CHUNK_BYTES);
    const { bytesRead } = await handle.read(chunk, 0, high - low, low);
    const index = chunk.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (index >= 0) return low + index + 1;
    high = low;
  }
  return 0;
}

function parsesAsJson(line: Buffer): boolean {
  try {
    JSON.parse(line.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Longest prefix of a JSON Lines file that ends with `\n` and whose last line parses:
 * a torn line (no newline yet, or a page of zeros a crash left behind) is dropped.
 */
export async function validJsonlPrefix(handle: FileHandle, size: number): Promise<number> {
  let end = await afterLastNewline(handle, size);
  while (end > 0) {
    const start = await afterLastNewline(handle, end - 1);
    const line = Buffer.alloc(end - 1 - start);
    await handle.read(line, 0, line.length, start);
    if (parsesAsJson(line)) return end;
    end = start;
  }
  return 0;
}

/**
 * Longest prefix of a CSV file ending with a record terminator. Quoted cells may contain
 * newlines, so a `\n` ends a record only when the quotes before it are balanced (`""`
 * escapes count twice): this needs one forward scan of the file.
 */
export async function validCsvPrefix(handle: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(CHUNK_BYTES * 16);
  let quotes = 0;
  let lastEnd = 0;
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - position), position);
    if (bytesRead === 0) break;
    const view = chunk.subarray(0, bytesRead);
    let index = 0;
    for (;;) {
      const quote = view.indexOf(QUOTE, index);
      const newline = view.indexOf(NEWLINE, index);
      if (newline < 0 && quote < 0) break;
      if (quote >= 0 && (newline < 0 || quote < newline)) {
        quotes += 1;
        index = quote + 1;
      } else {
        if (quotes % 2 === 0) lastEnd = position + newline + 1;
        index = newline + 1;
      }
    }
    position += bytesRead;
  }
  return lastEnd;
}

/** The length the file must be cut to so it ends with a complete record or member. */
export function validPrefix(
  handle: FileHandle,
  size: number,
  kind: { format: 'jsonl' | 'csv'; gzip: boolean },
  path: string,
): Promise<number> {
  if (kind.gzip) return validGzipPrefix(handle, size, path);
  return kind.format === 'csv' ? validCsvPrefix(handle, size) : validJsonlPrefix(handle, size);
}

/**
 * Cuts the torn tail of one output file in place (what {@link FileSink} does when it
 * reopens a file); for readers that want to read files a crashed writer left behind.
 * Returns the number of bytes removed.
 */
export async function repairOutputFile(
  path: string,
  kind: { format: 'jsonl' | 'csv'; gzip: boolean },
): Promise<number> {
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    const valid = size === 0 ? 0 : await validPrefix(handle, size, kind, path);
    if (valid < size) {
      await handle.truncate(valid);
      await handle.datasync();
    }
    return size - valid;
  } finally {
    await handle.close();
  }
}
