import type { Checkpoint } from './checkpoint.js';
import { isKefuError } from './errors.js';
import type { KefuLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { PushSpool, SpooledRecord } from './push-spool.js';
import { type KefuRecord, streamId } from './record.js';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy, sleep } from './retry.js';
import type { DeliveryGuarantee, RecordBatch, RecordSink } from './sink.js';

/**
 * Moves spooled pushes into the sinks: oldest first, one stream's run of records per
 * batch, to every sink in parallel; the records leave the spool only after every sink
 * acknowledged them. A failing sink is retried with back-off, forever — the spool holds
 * the records meanwhile, so a sink outage delays pushes but loses none.
 */

/** What the drainer reports after each acknowledged batch (for metrics). */
export interface DrainedBatch {
  provider: string;
  account: string;
  records: number;
  sinkIds: readonly string[];
}

/** Options of {@link SpoolDrainer}. */
export interface SpoolDrainerOptions {
  spool: PushSpool;
  sinks: readonly RecordSink[];
  /** Records per batch, at most (default 500). */
  batchSize?: number;
  /** Back-off between failed writes (default {@link defaultRetryPolicy}; attempts are unlimited). */
  retry?: RetryPolicy;
  logger?: KefuLogger;
  /** Called after each batch every sink acknowledged. */
  onDrained?: (batch: DrainedBatch) => void;
  /** Called before each retry of a failed write. */
  onRetry?: (error: unknown) => void;
}

/** The checkpoint key of spooled pushes: `live/provider/account`, apart from every sync job's keys. */
export function liveCheckpointKey(provider: string, account: string): string {
  return `live/${provider}/${account}`;
}

/** See the module comment. Start with {@link start}; {@link stop} drains what is queued, then returns. */
export class SpoolDrainer {
  readonly #options: SpoolDrainerOptions;
  readonly #logger: KefuLogger;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  readonly #abort = new AbortController();
  #unsubscribe: (() => void) | undefined;

  constructor(options: SpoolDrainerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Starts draining in the background (records left from a previous run first). */
  start(): void {
    if (this.#running) return;
    this.#unsubscribe = this.#options.spool.onAppend(() => this.#wake?.());
    this.#running = this.#loop();
  }

  /**
   * Stops: drains what is queued (bounded by `timeoutMs`, default 10 s), then returns.
   * Records not drained stay in the spool for the next start.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    const timer = setTimeout(() => this.#abort.abort(), timeoutMs);
    try {
      await this.#running;
    } finally {
      clearTimeout(timer);
      this.#unsubscribe?.();
    }
  }

  async #loop(): Promise<void> {
    const batchSize = this.#options.batchSize ?? 500;
    const policy = this.#options.retry ?? defaultRetryPolicy;
    for (let failures = 0; !this.#abort.signal.aborted; ) {
      try {
        if ((await this.#step(batchSize)) === 'stop') return;
        failures = 0;
      } catch (error) {
        // The spool itself failed (disk, a corrupt row): log, back off, try again; records stay.
        failures += 1;
        this.#logger.error('push spool not readable; retrying', {
          error: isKefuError(error) ? error.code : String(error),
        });
        try {
          await sleep(backoffDelay(failures, policy), this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /** One round: deliver the oldest run, or wait for an append; `stop` when done. */
  async #step(batchSize: number): Promise<'stop' | 'next'> {
    const queued = this.#options.spool.take(batchSize);
    if (queued.length === 0) {
      if (this.#stopping) return 'stop';
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
      return 'next';
    }
    const run = firstStreamRun(queued);
    const written = await this.#deliver(run);
    if (!written) return 'stop';
    this.#options.spool.remove(run[0]?.seq as number, run[run.length - 1]?.seq as number);
    return 'next';
  }

  /** Writes one run to every sink, retrying until all acknowledged; false when aborted. */
  async #deliver(run: readonly SpooledRecord[]): Promise<boolean> {
    const records = run.map((entry) => entry.record);
    const first = records[0] as KefuRecord;
    const last = run[run.length - 1] as SpooledRecord;
    const batch: RecordBatch = {
      stream: { provider: first.provider, account: first.account },
      checkpointKey: liveCheckpointKey(first.provider, first.account),
      records,
      checkpoint: liveCheckpoint(first.provider, first.account, last),
    };
    const policy = this.#options.retry ?? defaultRetryPolicy;
    for (let attempt = 0; !this.#abort.signal.aborted; attempt++) {
      try {
        await Promise.all(this.#options.sinks.map((sink) => sink.write(batch)));
        this.#options.onDrained?.({
          provider: first.provider,
          account: first.account,
          records: records.length,
          sinkIds: this.#options.sinks.map((sink) => sink.id),
        });
        return true;
      } catch (error) {
        this.#options.onRetry?.(error);
        this.#logger.warn('spooled pushes not yet stored; retrying', {
          stream: streamId(batch.stream),
          records: records.length,
          error: isKefuError(error) ? error.code : String(error),
        });
        try {
          await sleep(backoffDelay(attempt + 1, policy), this.#abort.signal);
        } catch {
          return false;
        }
      }
    }
    return false;
  }
}

/** The leading records of one stream (batches never mix streams). */
function firstStreamRun(queued: readonly SpooledRecord[]): SpooledRecord[] {
  const first = queued[0] as SpooledRecord;
  const key = streamId(first.record);
  const run: SpooledRecord[] = [];
  for (const entry of queued) {
    if (streamId(entry.record) !== key) break;
    run.push(entry);
  }
  return run;
}

function liveCheckpoint(provider: string, account: string, last: SpooledRecord): Checkpoint {
  return { provider, account, position: { spoolSeq: last.seq }, skip: 0, recordAt: last.record.at };
}

/**
 * One sink for the scheduled backfill that drops records the spool has already seen (a
 * record pushed, then met again by the backfill, is stored once), writes the rest to every
 * sink in parallel, and remembers them in the spool once all acknowledged. Give it to
 * `runSync` as the only sink.
 */
export class SpoolDedupingSink implements RecordSink {
  readonly id: string;
  readonly guarantee: DeliveryGuarantee;
  readonly #spool: PushSpool;
  readonly #sinks: readonly RecordSink[];
  readonly #onWritten: ((batch: RecordBatch, dropped: number) => void) | undefined;

  constructor(
    spool: PushSpool,
    sinks: readonly RecordSink[],
    onWritten?: (batch: RecordBatch, dropped: number) => void,
  ) {
    this.#spool = spool;
    this.#sinks = sinks;
    this.#onWritten = onWritten;
    this.id = sinks.map((sink) => sink.id).join('+');
    this.guarantee = sinks.every((sink) => sink.guarantee === 'exactly-once') ? 'exactly-once' : 'at-least-once';
  }

  async write(batch: RecordBatch): Promise<void> {
    const fresh = batch.records.filter((record) => !this.#spool.hasSeen(record));
    const filtered: RecordBatch = { ...batch, records: fresh };
    await Promise.all(this.#sinks.map((sink) => sink.write(filtered)));
    this.#spool.markSeen(fresh);
    this.#onWritten?.(filtered, batch.records.length - fresh.length);
  }

  /** The sinks are closed by their runtime, not here. */
  async close(): Promise<void> {}
}
