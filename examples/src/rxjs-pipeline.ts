/**
 * An RxJS pipeline with real backpressure: records from the WeChat provider are windowed,
 * filtered and enriched, then written to two sinks (a JSONL file and SQLite) in parallel;
 * the checkpoint is saved only after both acknowledged, and more records are requested
 * from the stream only then, so memory stays bounded however slow the sinks are.
 *
 * Run it: `node examples/dist/src/rxjs-pipeline.js [dir]` (after `pnpm build`).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Checkpoint,
  Demand,
  FileCheckpointStore,
  type KefuRecord,
  type PositionedRecord,
  type RecordSink,
  silentLogger,
} from '@kefu/core';
import { startEmulator } from '@kefu/emulator';
import { DatabaseSink } from '@kefu/sink-db';
import { FileSink } from '@kefu/sink-file';
import { WechatMpProvider } from '@kefu/wechat-mp';
import { bufferCount, concatMap, lastValueFrom, map, reduce } from 'rxjs';

/** Records the pipeline keeps: conversation messages, not platform events. */
export function isConversation(record: KefuRecord): boolean {
  return record.kind !== 'event' && record.direction !== 'system';
}

/** Enrichment: tags each record with the business's own view of it (here, a customer segment and a topic). */
export function enrich(record: KefuRecord): KefuRecord {
  const segment = record.customer.charCodeAt(record.customer.length - 1) % 3 === 0 ? 'vip' : 'standard';
  const topic = /订单|order|发货|物流/i.test(record.text ?? '') ? 'orders' : 'general';
  const raw =
    typeof record.raw === 'object' && record.raw !== null && !Array.isArray(record.raw)
      ? record.raw
      : { value: record.raw };
  return { ...record, raw: { ...raw, enrichment: { segment, topic } } };
}

/** What a pipeline run did. */
export interface PipelineResult {
  read: number;
  written: number;
  windows: number;
  checkpoint: Checkpoint | undefined;
}

/**
 * Reads `stream` window by window: each window of `windowSize` source records is filtered
 * and enriched, written to every sink in parallel, its checkpoint saved, and only then is
 * the next window requested (the Demand).
 */
export async function runPipeline(options: {
  provider: WechatMpProvider;
  account: string;
  from: Date;
  to: Date;
  sinks: readonly RecordSink[];
  checkpoints: FileCheckpointStore;
  windowSize?: number;
}): Promise<PipelineResult> {
  const windowSize = options.windowSize ?? 200;
  const key = `rxjs-example/${options.provider.id}/${options.account}`;
  const resumeFrom = await options.checkpoints.load(key);
  const stream = options.provider.records({
    account: options.account,
    from: options.from,
    to: options.to,
    ...(resumeFrom ? { resumeFrom } : {}),
  });
  // Two windows of credit: one being written, one gathering.
  const demand = new Demand(windowSize * 2);
  return lastValueFrom(
    stream.positioned({ demand }).pipe(
      bufferCount(windowSize),
      map((window: PositionedRecord[]) => ({
        size: window.length,
        records: window
          .map((p) => p.record)
          .filter(isConversation)
          .map(enrich),
        checkpoint: window.at(-1)!.checkpoint,
      })),
      concatMap(async (window) => {
        const batch = {
          stream: stream.key,
          checkpointKey: key,
          records: window.records,
          checkpoint: window.checkpoint,
        };
        await Promise.all(options.sinks.map((sink) => sink.write(batch)));
        await options.checkpoints.save(key, window.checkpoint);
        demand.request(window.size);
        return window;
      }),
      reduce<{ size: number; records: KefuRecord[]; checkpoint: Checkpoint }, PipelineResult>(
        (result, window) => ({
          read: result.read + window.size,
          written: result.written + window.records.length,
          windows: result.windows + 1,
          checkpoint: window.checkpoint,
        }),
        { read: 0, written: 0, windows: 0, checkpoint: undefined },
      ),
    ),
  );
}

/** Starts the emulator and runs the pipeline over two days into `dir`. */
export async function main(dir?: string): Promise<PipelineResult & { dir: string }> {
  const outputDir = dir ?? (await mkdtemp(join(tmpdir(), 'kefu-rxjs-')));
  const emulator = await startEmulator({ seed: 'rxjs-example', wechat: { accounts: 1, days: 3, recordsPerDay: 300 } });
  const account = emulator.wechat.accounts[0]!;
  const provider = new WechatMpProvider(
    { baseUrl: emulator.wechat.baseUrl, accounts: [account] },
    { logger: silentLogger },
  );
  const sinks = [
    new FileSink({ id: 'jsonl', dir: join(outputDir, 'records') }),
    new DatabaseSink({ id: 'sqlite', url: join(outputDir, 'records.db') }),
  ];
  const checkpoints = new FileCheckpointStore({ path: join(outputDir, 'checkpoints.json') });
  try {
    const to = new Date(emulator.clock.now());
    const from = new Date(to.getTime() - 2 * 86_400_000);
    const result = await runPipeline({ provider, account: account.appId, from, to, sinks, checkpoints });
    return { ...result, dir: outputDir };
  } finally {
    await Promise.all(sinks.map((sink) => sink.close()));
    await provider.close();
    await emulator.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main(process.argv[2]);
  console.log(
    `read ${result.read}, wrote ${result.written} enriched records in ${result.windows} windows to ${result.dir}`,
  );
}
