import type {
  Checkpoint,
  JsonValue,
  KefuRecord,
  PageSource,
  RecordBatch,
  RecordPage,
  RecordSink,
  StreamKey,
} from '@kefu/core';

/** Test fixtures: deterministic in-memory page sources that count what they are asked for. */

/** The stream key every fixture uses unless told otherwise. */
export const fixtureKey: StreamKey = { provider: 'p', account: 'a' };

/** Record number `i` of a stream (ids and times ascend with `i`). */
export function fixtureRecord(i: number, key: StreamKey = fixtureKey): KefuRecord {
  return {
    id: `r${i}`,
    provider: key.provider,
    account: key.account,
    customer: 'c',
    direction: 'inbound',
    kind: 'text',
    text: `t${i}`,
    at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    raw: { i },
  };
}

/** Options of {@link ArrayPageSource}. */
export interface ArrayPageSourceOptions {
  key?: StreamKey;
  /** Page index (0-based, absolute) whose request throws; a function is asked at every page. */
  failAt?: number | (() => number | undefined);
  /** Error thrown at `failAt` (default a plain Error). */
  failWith?: () => unknown;
  /** Awaited before each page is produced (e.g. a macrotask, or a gate that never opens). */
  beforePage?: (pageIndex: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A page source over fixed page sizes. Position after page k is k + 1 (null = 0), so
 * it is deterministic and resumable; a position beyond the end yields nothing.
 */
export class ArrayPageSource implements PageSource {
  /** Pages requested from the source (a request starts when the iterator's next() is called). */
  requested = 0;
  /** Times `pages()` was opened. */
  opened = 0;
  /** Times the iterator was finished by return() or completion (its finally ran). */
  finished = 0;
  /** Whether the last opened iterator's signal was aborted when it finished. */
  abortedAtFinish = false;
  readonly records: KefuRecord[];
  readonly #starts: number[] = [];

  constructor(
    readonly pageSizes: readonly number[],
    readonly options: ArrayPageSourceOptions = {},
  ) {
    let next = 0;
    this.records = [];
    for (const size of pageSizes) {
      this.#starts.push(next);
      for (let i = 0; i < size; i++) this.records.push(fixtureRecord(next + i, options.key));
      next += size;
    }
  }

  /** The records of page `index`. */
  page(index: number): KefuRecord[] {
    const start = this.#starts[index] ?? this.records.length;
    return this.records.slice(start, start + (this.pageSizes[index] ?? 0));
  }

  /** The page index holding record number `recordIndex`. */
  pageOf(recordIndex: number): number {
    let index = 0;
    while (index + 1 < this.#starts.length && (this.#starts[index + 1] as number) <= recordIndex) index++;
    return index;
  }

  async *pages(position: JsonValue, signal: AbortSignal): AsyncGenerator<RecordPage> {
    this.opened++;
    try {
      for (let index = (position as number | null) ?? 0; index < this.pageSizes.length; index++) {
        this.requested++;
        await this.options.beforePage?.(index, signal);
        if (signal.aborted) throw new Error('aborted by signal');
        const failAt = this.options.failAt;
        if (index === (typeof failAt === 'function' ? failAt() : failAt))
          throw this.options.failWith?.() ?? new Error(`page ${index} failed`);
        yield { records: this.page(index), position: index + 1 };
      }
    } finally {
      this.finished++;
      this.abortedAtFinish = signal.aborted;
    }
  }
}

/** Resolves after the current macrotask turn (lets every pending promise chain settle). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits `turns` macrotask turns. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextTurn();
}

/** A promise that settles only when `signal` aborts (a page request that never answers). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}

/** Options of {@link RecordingSink}. */
export interface RecordingSinkOptions {
  /** Awaited before each write is accepted (slow sinks, gates). */
  beforeWrite?: (call: number, batch: RecordBatch) => Promise<void>;
  /** Decides whether write call number `call` (1-based) fails, and with what. */
  failOn?: (call: number, batch: RecordBatch) => unknown;
}

/** An in-test sink that keeps what it accepted and counts calls and concurrent writes. */
export class RecordingSink implements RecordSink {
  readonly guarantee = 'at-least-once' as const;
  /** Ids of every record accepted, in order (duplicates kept). */
  readonly accepted: string[] = [];
  /** Checkpoints of the accepted batches. */
  readonly acknowledged: Checkpoint[] = [];
  calls = 0;
  writing = 0;
  maxConcurrentWrites = 0;
  closed = false;

  constructor(
    readonly id: string,
    readonly options: RecordingSinkOptions = {},
  ) {}

  async write(batch: RecordBatch): Promise<void> {
    const call = ++this.calls;
    this.writing++;
    this.maxConcurrentWrites = Math.max(this.maxConcurrentWrites, this.writing);
    try {
      await this.options.beforeWrite?.(call, batch);
      const failure = this.options.failOn?.(call, batch);
      if (failure !== undefined) throw failure;
      this.accepted.push(...batch.records.map((r) => r.id));
      this.acknowledged.push(batch.checkpoint);
    } finally {
      this.writing--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
