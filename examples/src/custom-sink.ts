/**
 * A custom sink written against @kefu/core's public API only: human-readable Markdown
 * transcripts, one file per customer, for a quality-review team.
 *
 * Each record becomes one line `- **agent** (time): text` followed by an HTML comment
 * holding the record as JSON, so the transcript is both readable and lossless. `write`
 * appends each file's lines in one call and fsyncs before resolving: what it
 * acknowledges survives a crash (at-least-once; a replayed batch appends again, and the
 * reader dedupes by id).
 */
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { coreError, type KefuRecord, type RecordBatch, type RecordSink } from '@kefu/core';
import { makeRecords } from '@kefu/testkit';

const MARKER = '<!-- kefu ';

/** Turns ids into safe file names. */
function fileNameFor(value: string): string {
  return `${value.replace(/[^A-Za-z0-9_.-]/g, '_')}.md`;
}

/** Renders one record as a transcript line plus its lossless JSON. */
function transcriptLine(record: KefuRecord): string {
  const who = record.direction === 'inbound' ? 'customer' : (record.agent ?? 'agent');
  const text = (record.text ?? `[${record.kind}]`).replace(/\s*\n\s*/g, ' ');
  // JSON.stringify escapes control characters; "--" is escaped so the comment cannot end early.
  const json = JSON.stringify(record).replaceAll('--', '\\u002d\\u002d');
  return `- **${who}** (${record.at}): ${text}\n  ${MARKER}${json} -->\n`;
}

/** Markdown transcripts per customer under `dir/<account>/<customer>.md`. */
export class TranscriptSink implements RecordSink {
  readonly id: string;
  readonly guarantee = 'at-least-once' as const;
  readonly #dir: string;
  #closed = false;

  constructor(options: { dir: string; id?: string }) {
    this.#dir = options.dir;
    this.id = options.id ?? 'transcripts';
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.#closed) throw coreError('KEFU_SINK_FAILED', `transcript sink ${this.id} is closed`);
    const byFile = new Map<string, string[]>();
    for (const record of batch.records) {
      const file = join(this.#dir, fileNameFor(record.account), fileNameFor(record.customer));
      const lines = byFile.get(file) ?? [];
      lines.push(transcriptLine(record));
      byFile.set(file, lines);
    }
    try {
      await Promise.all(
        [...byFile].map(async ([file, lines]) => {
          await mkdir(join(file, '..'), { recursive: true });
          const handle = await open(file, 'a', 0o644);
          try {
            await handle.appendFile(lines.join(''));
            await handle.sync();
          } finally {
            await handle.close();
          }
        }),
      );
    } catch (cause) {
      throw coreError('KEFU_SINK_FAILED', `transcript sink ${this.id} could not write under ${this.#dir}`, {
        cause,
        retryable: true,
      });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Reads every record back from the transcripts (deduplicated by id, file order kept). */
export async function readTranscripts(dir: string): Promise<KefuRecord[]> {
  const records = new Map<string, KefuRecord>();
  const accounts = await readdir(dir).catch(() => [] as string[]);
  for (const account of accounts) {
    for (const file of await readdir(join(dir, account))) {
      const text = await readFile(join(dir, account, file), 'utf8');
      for (const line of text.split('\n')) {
        const start = line.indexOf(MARKER);
        if (start < 0) continue;
        const json = line.slice(start + MARKER.length, line.lastIndexOf(' -->'));
        const record = JSON.parse(json) as KefuRecord;
        records.set(record.id, record);
      }
    }
  }
  return [...records.values()];
}

/** Writes two batches of sample records into `dir` and returns what reads back. */
export async function main(dir = 'kefu-transcripts'): Promise<KefuRecord[]> {
  const sink = new TranscriptSink({ dir });
  const records = makeRecords(20, { provider: 'example', account: 'shop-1' });
  const stream = { provider: 'example', account: 'shop-1' };
  for (const [index, part] of [records.slice(0, 10), records.slice(10)].entries()) {
    await sink.write({
      stream,
      checkpointKey: 'example/shop-1',
      records: part,
      checkpoint: { ...stream, position: index + 1, skip: 0 },
    });
  }
  await sink.close();
  return readTranscripts(dir);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const records = await main(process.argv[2]);
  console.log(`wrote and read back ${records.length} records as Markdown transcripts`);
}
