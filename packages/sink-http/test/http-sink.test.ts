import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonLogger, isKefuError, type KefuRecord, type RecordBatch } from '@kefu/core';
import { makeRecords } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchIdempotencyKey, HttpSink, type HttpSinkConfigInput, parseRetryAfter, plugin } from '../src/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const secret = 'test-webhook-secret-7f3a9c2e';
const STREAM = { provider: 'youmi', account: '10001' };

function batchesOf(records: readonly KefuRecord[], size: number): RecordBatch[] {
  const batches: RecordBatch[] = [];
  for (let i = 0; i < records.length; i += size) {
    const slice = records.slice(i, i + size);
    batches.push({
      stream: STREAM,
      checkpointKey: 'job/youmi/10001',
      records: slice,
      checkpoint: { ...STREAM, position: i + slice.length, skip: 0, recordAt: slice.at(-1)?.at },
    });
  }
  return batches;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

let receiver: WebhookReceiver | undefined;
let dir: string;
const sinks: HttpSink[] = [];
function newSink(config: Omit<HttpSinkConfigInput, 'secret'> & { secret?: string }, logLines?: string[]): HttpSink {
  const sink = new HttpSink(
    { secret, ...config },
    {
      random: seeded(7),
      ...(logLines ? { logger: createJsonLogger({ level: 'debug', write: (line) => logLines.push(line) }) } : {}),
    },
  );
  sinks.push(sink);
  return sink;
}
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-http-'));
});
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
  await receiver?.close();
  receiver = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('delivery through a failing, resetting, slow receiver', () => {
  it('delivers every batch at least once, deduplicable by key, and the contiguous-ack checkpoint never passes an undelivered batch', async () => {
    receiver = await startWebhookReceiver({
      secret,
      seed: 2026,
      // Every fault happens at least once, then a seeded random mix.
      script: ['reset', 'server-error', 'accept-then-reset', 'too-slow', 'slow', 'rate-limited'],
      shares: {
        'server-error': 0.15,
        reset: 0.1,
        'accept-then-reset': 0.08,
        slow: 0.15,
        'too-slow': 0.02,
        'rate-limited': 0.05,
      },
      slowMs: 15,
      // Far beyond timeouts.responseMs: undici checks timeouts on a ~1 s timer wheel.
      tooSlowMs: 4_000,
    });
    const logLines: string[] = [];
    const sink = newSink(
      {
        url: receiver.url,
        concurrency: 4,
        format: 'ndjson',
        timeouts: { responseMs: 150 },
        retry: { maxAttempts: 40, baseDelayMs: 2, maxDelayMs: 40 },
        deadLetterPath: join(dir, 'dead.jsonl'),
      },
      logLines,
    );
    const records = makeRecords(400, STREAM);
    const batches = batchesOf(records, 8);

    // The pipeline's rule: up to 6 batches in flight, the checkpoint advances over the
    // contiguous acknowledged prefix only.
    const acknowledged = new Set<number>();
    const committed: number[] = [];
    let next = 0;
    let prefix = 0;
    const deliveredKeys = () => new Set(receiver!.stored.map((s) => s.key));
    const commitPrefix = () => {
      while (acknowledged.has(prefix)) {
        const keys = deliveredKeys();
        // Nothing up to the checkpoint may be missing at the receiver.
        for (let i = 0; i <= prefix; i++) expect(keys.has(batchIdempotencyKey(batches[i]!))).toBe(true);
        committed.push(batches[prefix]!.checkpoint.position as number);
        prefix += 1;
      }
    };
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      const pump = () => {
        while (inFlight < 6 && next < batches.length) {
          const index = next++;
          inFlight += 1;
          sink.write(batches[index]!).then(() => {
            inFlight -= 1;
            acknowledged.add(index);
            commitPrefix();
            if (prefix === batches.length) resolve();
            else pump();
          }, reject);
        }
      };
      pump();
    });

    expect(committed).toEqual(batches.map((b) => b.checkpoint.position));
    const faults = new Set(receiver.requests.map((r) => r.fault));
    for (const fault of ['server-error', 'accept-then-reset', 'too-slow', 'slow', 'rate-limited'])
      expect(faults.has(fault as never)).toBe(true);
    expect(sink.stats.deadLettered).toBe(0);
    // Every kind of failure was seen and retried by the sink.
    const retriedCodes = new Set(logLines.map((line) => JSON.parse(line).error?.code));
    expect(retriedCodes).toEqual(new Set(['SINK_HTTP_NETWORK', 'SINK_HTTP_SERVER_ERROR', 'SINK_HTTP_TIMEOUT']));
    expect(sink.stats.retries).toBe(logLines.length);

    // Deduplicated by key, the stored batches are exactly the batches sent, record for record.
    const byKey = new Map(receiver.stored.map((s) => [s.key, s.records.map((r) => r.id)]));
    expect(byKey).toEqual(new Map(batches.map((b) => [batchIdempotencyKey(b), b.records.map((r) => r.id)])));
    expect(receiver.stored.length).toBeGreaterThan(batches.length); // duplicates did happen
    expect(receiver.requests.every((r) => r.fault === 'reset' || r.signatureValid === true)).toBe(true);
  });

  it('sends one idempotency key per batch across its retries, and the same key when the batch is replayed later', async () => {
    receiver = await startWebhookReceiver({ secret, script: ['server-error', 'reset', 'server-error'] });
    const [batch] = batchesOf(makeRecords(5, STREAM), 5);
    await newSink({ url: receiver.url, onPermanentFailure: 'fail', retry: { baseDelayMs: 1, maxDelayMs: 2 } }).write(
      batch!,
    );
    await newSink({ url: receiver.url, onPermanentFailure: 'fail' }).write(structuredClone(batch!));
    const keys = receiver.requests.map((r) => r.key);
    expect(keys.length).toBe(5);
    expect(new Set(keys)).toEqual(new Set([batchIdempotencyKey(batch!)]));
    expect(receiver.requests.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 1]);
  });

  it('keeps connections alive and never has more than `concurrency` batches at the receiver at once', async () => {
    receiver = await startWebhookReceiver({ secret, shares: { slow: 1 }, slowMs: 10 });
    const sink = newSink({ url: receiver.url, onPermanentFailure: 'fail', concurrency: 3 });
    const batches = batchesOf(makeRecords(60, STREAM), 2);
    for (const batch of batches.slice(0, 10)) await sink.write(batch);
    // Ten sequential writes reuse keep-alive sockets (undici may open a second one while
    // the first is still being released).
    expect(receiver.connections).toBeLessThanOrEqual(2);
    await Promise.all(batches.slice(10).map((batch) => sink.write(batch)));
    expect(receiver.maxConcurrent).toBe(3);
    expect(receiver.connections).toBeLessThanOrEqual(3);
    expect(new Set(receiver.stored.map((s) => s.key)).size).toBe(30);
  });

  it('gives different batches different keys', () => {
    const [a, b] = batchesOf(makeRecords(10, STREAM), 5);
    expect(batchIdempotencyKey(a!)).not.toBe(batchIdempotencyKey(b!));
    expect(batchIdempotencyKey(a!)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('honours Retry-After instead of its own back-off (capped by maxRetryAfterMs)', async () => {
    receiver = await startWebhookReceiver({ secret, script: ['rate-limited'], retryAfter: '3600' });
    // Own back-off would wait 10 minutes and the test would time out; Retry-After (capped to 20 ms) wins.
    const sink = newSink({
      url: receiver.url,
      onPermanentFailure: 'fail',
      maxRetryAfterMs: 20,
      retry: { baseDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 },
    });
    await sink.write(batchesOf(makeRecords(2, STREAM), 2)[0]!);
    expect(receiver.requests.map((r) => r.fault)).toEqual(['rate-limited', 'ok']);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('permanent failures', () => {
  const poison = (records: KefuRecord[]) => records.some((r) => r.customer === 'customer-1');

  it('writes a 4xx-rejected batch to a 0600 dead-letter file, fsynced, and resolves so the pipeline moves on', async () => {
    receiver = await startWebhookReceiver({ secret, rejects: poison });
    const deadLetterPath = join(dir, 'dl', 'dead.jsonl');
    const sink = newSink({ url: receiver.url, deadLetterPath });
    const [good, bad] = [
      batchesOf(makeRecords(1, { ...STREAM, customers: 1 }), 1)[0]!,
      batchesOf(makeRecords(2, STREAM), 2)[0]!,
    ];
    await sink.write(bad);
    await sink.write(good);
    const lines = (await readFile(deadLetterPath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry.batch).toEqual(JSON.parse(JSON.stringify(bad)));
    expect(entry.idempotencyKey).toBe(batchIdempotencyKey(bad));
    expect(entry.error.code).toBe('SINK_HTTP_REJECTED');
    expect(entry.error.details.status).toBe(400);
    expect((await stat(deadLetterPath)).mode & 0o777).toBe(0o600);
    expect(receiver.requests.filter((r) => r.fault === 'ok').length).toBe(2); // no retry of a 4xx
    expect(sink.stats.deadLettered).toBe(1);
  });

  it('given a dead-letter file with a torn last line and loose permissions, when a batch is dead-lettered, then the torn line is cut and the file is 0600', async () => {
    receiver = await startWebhookReceiver({ secret, rejects: () => true });
    const deadLetterPath = join(dir, 'dead.jsonl');
    await writeFile(deadLetterPath, '{"at":"2026-01-01T00:00:00.000Z","sink":"http"}\n{"at":"2026-01-0');
    await chmod(deadLetterPath, 0o644);
    const batch = batchesOf(makeRecords(1, STREAM), 1)[0]!;
    await newSink({ url: receiver.url, deadLetterPath }).write(batch);
    const lines = (await readFile(deadLetterPath, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line).sink)).toEqual(['http', 'http']);
    expect((await stat(deadLetterPath)).mode & 0o777).toBe(0o600);
  });

  it("rejects with SINK_HTTP_REJECTED when onPermanentFailure is 'fail'", async () => {
    receiver = await startWebhookReceiver({ secret, rejects: poison });
    const sink = newSink({ url: receiver.url, onPermanentFailure: 'fail' });
    const error = await errorOf(sink.write(batchesOf(makeRecords(2, STREAM), 2)[0]!));
    expect(isKefuError(error) && error.code).toBe('SINK_HTTP_REJECTED');
    expect(isKefuError(error) && error.retryable).toBe(false);
  });

  it('dead-letters a batch when retries run out, and never logs the secret or a sensitive header', async () => {
    receiver = await startWebhookReceiver({ secret });
    receiver.down = true;
    const lines: string[] = [];
    const deadLetterPath = join(dir, 'dead.jsonl');
    const sink = newSink(
      {
        url: receiver.url,
        deadLetterPath,
        headers: { authorization: 'Bearer tenant-token-abcdef123' },
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      },
      lines,
    );
    await sink.write(batchesOf(makeRecords(2, STREAM), 2)[0]!);
    const entry = JSON.parse((await readFile(deadLetterPath, 'utf8')).trim());
    expect(entry.error.code).toBe('SINK_HTTP_SERVER_ERROR');
    expect(receiver.requests.length).toBe(3);
    expect(lines.length).toBe(3); // two retries, one permanent failure
    const everything = `${lines.join('\n')}\n${await readFile(deadLetterPath, 'utf8')}`;
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('tenant-token-abcdef123');
  });

  it('rejects with SINK_HTTP_DEAD_LETTER_FAILED when the dead-letter file cannot be written, so nothing is lost silently', async () => {
    receiver = await startWebhookReceiver({ secret, rejects: () => true });
    // A real ENOSPC: the dead-letter path is a symlink to /dev/full.
    await symlink('/dev/full', join(dir, 'full.jsonl'));
    const sink = newSink({ url: receiver.url, deadLetterPath: join(dir, 'full.jsonl') });
    const error = await errorOf(sink.write(batchesOf(makeRecords(1, STREAM), 1)[0]!));
    expect(isKefuError(error) && error.code).toBe('SINK_HTTP_DEAD_LETTER_FAILED');
  });

  it('reports a receiver slower than timeouts.responseMs as a retryable timeout', async () => {
    // undici checks header/body timeouts on a ~1 s timer wheel: the receiver must be far slower.
    receiver = await startWebhookReceiver({ secret, shares: { 'too-slow': 1 }, tooSlowMs: 4_000 });
    const sink = newSink({
      url: receiver.url,
      onPermanentFailure: 'fail',
      timeouts: { responseMs: 50 },
      retry: { maxAttempts: 1 },
    });
    const error = await errorOf(sink.write(batchesOf(makeRecords(1, STREAM), 1)[0]!));
    expect(isKefuError(error) && error.code).toBe('SINK_HTTP_TIMEOUT');
    expect(isKefuError(error) && error.retryable).toBe(true);
  });

  it('reports a refused connection as a retryable network error', async () => {
    receiver = await startWebhookReceiver({ secret });
    const url = receiver.url;
    await receiver.close();
    receiver = undefined;
    const sink = newSink({ url, onPermanentFailure: 'fail', retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await errorOf(sink.write(batchesOf(makeRecords(1, STREAM), 1)[0]!));
    expect(isKefuError(error) && error.code).toBe('SINK_HTTP_NETWORK');
    expect(isKefuError(error) && error.retryable).toBe(true);
  });
});

describe('configuration and plugin', () => {
  it.each([
    [{ url: 'ftp://example.com' }, 'url'],
    [{ url: 'http://127.0.0.1/x', secret: 'short' }, 'secret'],
    [{ url: 'http://127.0.0.1/x' }, 'deadLetterPath'],
    [{ url: 'http://127.0.0.1/x', onPermanentFailure: 'fail', concurrency: 0 }, 'concurrency'],
  ])('rejects %j naming the field, without echoing the secret', (config, field) => {
    let error: unknown;
    try {
      new HttpSink({ secret, ...(config as object) } as HttpSinkConfigInput);
    } catch (caught) {
      error = caught;
    }
    expect(isKefuError(error) && error.code).toBe('SINK_HTTP_CONFIG_INVALID');
    expect((error as Error).message).toContain(`\`${field}\``);
    expect(JSON.stringify(error)).not.toContain(secret);
  });

  it('ignores a record-less batch and rejects writes after close', async () => {
    receiver = await startWebhookReceiver({ secret });
    const sink = newSink({ url: receiver.url, onPermanentFailure: 'fail' });
    await sink.write({ ...batchesOf(makeRecords(1, STREAM), 1)[0]!, records: [] });
    expect(receiver.requests).toHaveLength(0);
    await sink.close();
    await sink.close();
    const error = await errorOf(sink.write(batchesOf(makeRecords(1, STREAM), 1)[0]!));
    expect(isKefuError(error) && error.code).toBe('KEFU_SINK_CLOSED');
  });

  it('is a sink plugin binding an HttpSink with the dead-letter path resolved against the config directory', async () => {
    const { Container } = await import('inversify');
    const { TOKENS, isKefuPlugin, silentLogger } = await import('@kefu/core');
    receiver = await startWebhookReceiver({ secret, rejects: () => true });
    expect(isKefuPlugin(plugin)).toBe(true);
    const config = plugin.configSchema.parse({ url: receiver.url, secret, deadLetterPath: 'dl.jsonl' });
    const container = new Container();
    await container.load(
      plugin.module(config, {
        instanceId: 'crm',
        baseDir: dir,
        logger: silentLogger,
        httpClients: {
          create: () => {
            throw new Error('unused');
          },
        },
      }),
    );
    const sink = container.get<HttpSink>(TOKENS.Sink);
    sinks.push(sink);
    expect(sink.id).toBe('crm');
    await sink.write(batchesOf(makeRecords(1, STREAM), 1)[0]!);
    expect(JSON.parse(await readFile(join(dir, 'dl.jsonl'), 'utf8')).sink).toBe('crm');
  });
});
