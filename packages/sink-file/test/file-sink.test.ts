import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKefuError, type KefuRecord, type RecordBatch } from '@kefu/core';
import { makeRecords } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvRow, FileSink, plugin, quoteCsvCell } from '../src/index.js';
import { listFiles, parseCsv, readAllRecords, readRecordsOf } from './read-output.js';

const STREAM = { provider: 'wechat-mp', account: 'wx-app-1' };

function batchOf(records: readonly KefuRecord[], position = records.length): RecordBatch {
  return {
    stream: STREAM,
    checkpointKey: 'job/wechat-mp/wx-app-1',
    records,
    checkpoint: { ...STREAM, position, skip: 0 },
  };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CSV serialization', () => {
  it('quotes commas, quotes, newlines and control characters per RFC 4180 and keeps multi-byte text verbatim', () => {
    expect(quoteCsvCell('你好，客服')).toBe('你好，客服');
    expect(quoteCsvCell('a,b')).toBe('"a,b"');
    expect(quoteCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(quoteCsvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(quoteCsvCell('bell\u0007')).toBe('"bell\u0007"');
    expect(quoteCsvCell(' padded')).toBe('" padded"');
  });

  it('writes rows that a strict RFC 4180 parser reads back cell for cell', () => {
    const [record] = makeRecords(1, STREAM);
    const tricky: KefuRecord = {
      ...record!,
      agent: 'kf2001@gh_test',
      text: '你好，"客服"\r\nsecond line\u0000🙂',
      media: { url: 'https://example.com/a,b.jpg', key: 'K"1' },
      raw: { text: '你好\u0007', n: '12345678901234567890' },
    };
    const [row] = parseCsv(csvRow(tricky));
    expect(row).toEqual([
      tricky.id,
      'wechat-mp',
      'wx-app-1',
      tricky.customer,
      'kf2001@gh_test',
      tricky.direction,
      'text',
      '',
      tricky.text,
      'https://example.com/a,b.jpg',
      'K"1',
      tricky.at,
      JSON.stringify(tricky.raw),
    ]);
  });
});

describe('FileSink paths and rotation', () => {
  it('writes one file per provider, account and UTC day by default', async () => {
    const sink = new FileSink({ dir });
    const records = makeRecords(3, { ...STREAM, start: new Date('2026-01-01T23:59:59Z') });
    await sink.write(batchOf(records));
    await sink.close();
    expect(await listFiles(dir)).toEqual([
      join(dir, 'wechat-mp/wx-app-1/2026-01-01.jsonl'),
      join(dir, 'wechat-mp/wx-app-1/2026-01-02.jsonl'),
    ]);
    expect((await readAllRecords(dir)).map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
  });

  it('rotates by day in the configured time zone (Asia/Shanghai is UTC+8)', async () => {
    const sink = new FileSink({ dir, timeZone: 'Asia/Shanghai', path: '{day}.jsonl' });
    const records = makeRecords(2, { ...STREAM, start: new Date('2026-01-01T15:59:59Z') });
    await sink.write(batchOf(records));
    await sink.close();
    expect((await readRecordsOf(join(dir, '2026-01-01.jsonl'))).map((r) => r.id)).toEqual(['r0']);
    expect((await readRecordsOf(join(dir, '2026-01-02.jsonl'))).map((r) => r.id)).toEqual(['r1']);
  });

  it('rotates by size into numbered parts without splitting a batch, and continues the last part after a restart', async () => {
    const records = makeRecords(60, STREAM);
    const first = new FileSink({ dir, maxBytes: 4_000 });
    for (let i = 0; i < 40; i += 5) await first.write(batchOf(records.slice(i, i + 5), i + 5));
    await first.close();
    const partsBefore = await listFiles(dir);
    expect(partsBefore.length).toBeGreaterThan(1);
    expect(partsBefore[0]).toBe(join(dir, 'wechat-mp/wx-app-1/2026-01-01.0000.jsonl'));
    for (const path of partsBefore) expect((await stat(path)).size).toBeLessThanOrEqual(4_000);

    const second = new FileSink({ dir, maxBytes: 4_000 });
    for (let i = 40; i < 60; i += 5) await second.write(batchOf(records.slice(i, i + 5), i + 5));
    await second.close();
    // Order proves no earlier part was reopened or overwritten.
    expect((await readAllRecords(dir)).map((r) => r.id)).toEqual(records.map((r) => r.id));
  });

  it.each(['batch', 'interval'] as const)(
    'writes a batch spanning more files than maxOpenFiles (fsync %s)',
    async (fsync) => {
      const sink = new FileSink({ dir, maxOpenFiles: 2, fsync, fsyncIntervalMs: 5 });
      // One record every 7 hours: 12 records over 4 days, in one batch and then again.
      const records = makeRecords(12, STREAM).map((record, index) => ({
        ...record,
        at: new Date(Date.UTC(2026, 0, 1) + index * 7 * 3_600_000).toISOString(),
      }));
      await sink.write(batchOf(records));
      await sink.write(batchOf(records.slice(0, 6)));
      await sink.close();
      expect((await listFiles(dir)).length).toBe(4);
      expect((await readAllRecords(dir)).length).toBe(18);
    },
  );

  it('keeps account names that look like paths inside the output directory', async () => {
    const sink = new FileSink({ dir });
    const [record] = makeRecords(1, { provider: 'youmi', account: '../../etc' });
    await sink.write(batchOf([record!]));
    await sink.close();
    expect(await listFiles(dir)).toEqual([join(dir, 'youmi/.._.._etc/2026-01-01.jsonl')]);
  });

  it('writes a CSV header once per file, also across reopen', async () => {
    const records = makeRecords(4, STREAM);
    for (const slice of [records.slice(0, 2), records.slice(2)]) {
      const sink = new FileSink({ dir, format: 'csv' });
      await sink.write(batchOf(slice));
      await sink.close();
    }
    const text = await readFile(join(dir, 'wechat-mp/wx-app-1/2026-01-01.csv'), 'utf8');
    expect(text.match(/^id,provider/gm)?.length).toBe(1);
    expect((await readAllRecords(dir)).map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3']);
  });
});

describe('FileSink contract details', () => {
  it('creates nothing for a record-less batch', async () => {
    const sink = new FileSink({ dir });
    await sink.write(batchOf([]));
    await sink.close();
    expect(await listFiles(dir)).toEqual([]);
  });

  it('rejects writes after close with KEFU_SINK_CLOSED', async () => {
    const sink = new FileSink({ dir });
    await sink.close();
    const error = await errorOf(sink.write(batchOf(makeRecords(1, STREAM))));
    expect(isKefuError(error) && error.code).toBe('KEFU_SINK_CLOSED');
  });

  it('acknowledges concurrent interval-fsync writes only after the covering fsync, in order', async () => {
    const sink = new FileSink({ dir, fsync: 'interval', fsyncIntervalMs: 20 });
    const records = makeRecords(100, STREAM);
    const acknowledged: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        sink.write(batchOf(records.slice(i * 10, i * 10 + 10), i)).then(() => acknowledged.push(i)),
      ),
    );
    expect(acknowledged).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await readAllRecords(dir)).length).toBe(100);
    await sink.close();
  });

  it('fails a write on a full disk with a typed, retryable error saying "disk full" and the path, and keeps writing other files', async () => {
    // /dev/full returns a real ENOSPC for every write.
    await symlink('/dev/full', join(dir, 'broken.jsonl'));
    const sink = new FileSink({ dir, path: '{provider}.jsonl' });
    const broken = makeRecords(2, { provider: 'broken', account: 'a' });
    const healthy = makeRecords(2, { provider: 'healthy', account: 'a' });
    const error = await errorOf(sink.write(batchOf(broken)));
    expect(isKefuError(error) && error.code).toBe('SINK_FILE_DISK_FULL');
    expect((error as Error).message).toMatch(/^disk full: appending \d+ bytes to \S*broken\.jsonl failed \(ENOSPC/);
    expect(isKefuError(error) && error.retryable).toBe(true);
    await sink.write(batchOf(healthy));
    await sink.close();
    expect((await readRecordsOf(join(dir, 'healthy.jsonl'))).map((r) => r.id)).toEqual(['r0', 'r1']);
  });

  it.each([
    [{ maxBytes: 100, path: '{day}.jsonl' }, 'path', '{part}'],
    [{ path: '{date}.jsonl' }, 'path', 'unknown placeholder {date}'],
    [{ timeZone: 'Mars/Olympus' }, 'timeZone', 'IANA'],
    [{ fsync: 'sometimes' }, 'fsync', ''],
  ])('rejects the bad config %j naming the field', (config, field, hint) => {
    let error: unknown;
    try {
      new FileSink({ dir, ...(config as object) });
    } catch (caught) {
      error = caught;
    }
    expect(isKefuError(error) && error.code).toBe('SINK_FILE_CONFIG_INVALID');
    expect((error as Error).message).toContain(`\`${field}\``);
    expect((error as Error).message).toContain(hint);
  });
});

describe('plugin', () => {
  it('is a sink plugin whose module binds a FileSink resolving dir against the config directory', async () => {
    const { Container } = await import('inversify');
    const { TOKENS, isKefuPlugin, silentLogger } = await import('@kefu/core');
    expect(isKefuPlugin(plugin)).toBe(true);
    expect(plugin.kind).toBe('sink');
    const config = plugin.configSchema.parse({ dir: 'out', format: 'csv' });
    const container = new Container();
    await container.load(
      plugin.module(config, {
        instanceId: 'archive',
        baseDir: dir,
        logger: silentLogger,
        httpClients: {
          create: () => {
            throw new Error('unused');
          },
        },
      }),
    );
    const sink = container.get<FileSink>(TOKENS.Sink);
    expect(sink.id).toBe('archive');
    await sink.write(batchOf(makeRecords(1, STREAM)));
    await sink.close();
    expect(await listFiles(dir)).toEqual([join(dir, 'out/wechat-mp/wx-app-1/2026-01-01.csv')]);
  });
});
