// Throughput of FileSink against a bare fs.WriteStream writing the same JSONL bytes.
// Run after a build: `pnpm build && pnpm --filter @kefu/bench bench:file-sink`
// It prints ratios and asserts nothing.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink } from '@kefu/sink-file';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const stream = { provider: 'bench', account: 'a' };
const records = Array.from({ length: RECORDS }, (_, index) => ({
  id: `r${index}`,
  provider: 'bench',
  account: 'a',
  customer: `customer-${index % 97}`,
  direction: index % 2 ? 'outbound' : 'inbound',
  kind: 'text',
  text: `消息 ${index}: 您好，请问有什么可以帮您？ 🙂`,
  at: new Date(Date.UTC(2026, 0, 1) + index * 100).toISOString(),
  raw: { msgid: index, opercode: 2002 },
}));
const batches = [];
for (let i = 0; i < RECORDS; i += BATCH)
  batches.push({
    stream,
    checkpointKey: 'bench/a',
    records: records.slice(i, i + BATCH),
    checkpoint: { ...stream, position: i, skip: 0 },
  });

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/** Best of REPEAT runs: the machine is shared, the minimum is the least disturbed. */
async function timed(label, run) {
  let seconds = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'kefu-bench-'));
    const started = process.hrtime.bigint();
    bytes = await run(dir);
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - started) / 1e9);
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `${label.padEnd(44)} ${(RECORDS / seconds).toFixed(0).padStart(9)} records/s ${(bytes / seconds / 2 ** 20).toFixed(1).padStart(7)} MiB/s`,
  );
  return seconds;
}

async function bareStream(dir) {
  // Same bytes, one write per batch, no durability at all. Lines are encoded one by one:
  // encoding a batch as one large string is about 3x slower (see encodeUtf8Lines in core).
  const out = createWriteStream(join(dir, 'bare.jsonl'));
  let bytes = 0;
  for (const batch of batches) {
    const data = Buffer.concat(batch.records.map((record) => Buffer.from(`${JSON.stringify(record)}\n`)));
    bytes += data.length;
    if (!out.write(data)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  return bytes;
}

function sinkRun(config, inFlight = 1) {
  return async (dir) => {
    const sink = new FileSink({ dir, path: 'out.jsonl', ...config });
    // Like the pipeline: up to `inFlight` unacknowledged batches, acknowledged in order.
    const pending = [];
    for (const batch of batches) {
      pending.push(sink.write(batch));
      if (pending.length >= inFlight) await pending.shift();
    }
    await Promise.all(pending);
    await sink.close();
    return (await stat(join(dir, 'out.jsonl'))).size;
  };
}

console.log(`${RECORDS} records in batches of ${BATCH}, best of ${REPEAT}`);
const bare = await timed('bare fs.WriteStream (no fsync)', bareStream);
for (const [label, config, inFlight] of [
  ['FileSink fsync none', { fsync: 'none' }, 1],
  ['FileSink fsync batch (default)', { fsync: 'batch' }, 1],
  ['FileSink fsync interval 20ms, 1 in flight', { fsync: 'interval', fsyncIntervalMs: 20 }, 1],
  ['FileSink fsync interval 20ms, 64 in flight', { fsync: 'interval', fsyncIntervalMs: 20 }, 64],
]) {
  const seconds = await timed(label, sinkRun(config, inFlight));
  console.log(`  ratio to bare stream: ${(seconds / bare).toFixed(2)}x time`);
}
const gz = await timed('FileSink gzip, fsync batch (MiB/s on disk)', async (dir) => {
  const sink = new FileSink({ dir, path: 'out.jsonl.gz', gzip: true });
  for (const batch of batches) await sink.write(batch);
  await sink.close();
  return (await stat(join(dir, 'out.jsonl.gz'))).size;
});
console.log(`  ratio to bare stream: ${(gz / bare).toFixed(2)}x time`);
