import {
  type Checkpoint,
  isKefuError,
  type KefuProvider,
  type KefuRecord,
  KefuRecordSchema,
  type RecordQueryInput,
  sleep,
} from '@kefu/core';
import fc from 'fast-check';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

/** What a provider author hands to {@link describeProvider} for each check. */
export interface ProviderUnderTest {
  provider: KefuProvider;
  /** A query yielding a few to a few thousand records (more than one page). */
  query: RecordQueryInput;
  /** Record-page requests made to the platform so far (laziness, cancellation and prefetch checks). */
  pageRequests: () => number;
  /** A query whose stream fails (e.g. an unknown account on the platform); its error must be a KefuError. */
  failingQuery?: RecordQueryInput;
  /** Stops servers started for this check. */
  teardown?: () => Promise<void>;
}

/** Tuning of {@link describeProvider}. */
export interface DescribeProviderOptions {
  /** Resume points tried by the property check (default 8). */
  resumeRuns?: number;
  /** Page requests the provider may make ahead of a stalled consumer (default 3: two prefetched, one in flight). */
  maxPagesAhead?: number;
  /** How long the slow consumer dwells on each page, in ms (default 25). */
  slowConsumerDelayMs?: number;
}

async function readAll(provider: KefuProvider, query: RecordQueryInput) {
  const records: KefuRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  for await (const page of provider.records(query).pages()) {
    page.records.forEach((record, index) => {
      records.push(record);
      checkpoints.push(page.checkpointAfter(index));
    });
  }
  return { records, checkpoints };
}

/**
 * The provider conformance suite: call it from your own vitest file.
 *
 * @example
 * ```ts
 * describeProvider('my-provider', async () => {
 *   const server = await startMyFakePlatform();
 *   const provider = new MyProvider({ baseUrl: server.url });
 *   return { provider, query: { from: '2026-01-01', to: '2026-01-03' }, pageRequests: () => server.pageRequests, teardown: () => server.stop() };
 * });
 * ```
 *
 * Longer than 100 lines on purpose: a suite is a list of checks, read top to bottom.
 */
export function describeProvider(
  name: string,
  setup: () => Promise<ProviderUnderTest>,
  options: DescribeProviderOptions = {},
): void {
  const maxAhead = options.maxPagesAhead ?? 3;
  const dwellMs = options.slowConsumerDelayMs ?? 25;

  // One callback over 100 lines on purpose: the suite's cases share `open` and its teardown, read top to bottom.
  describe(`provider conformance: ${name}`, () => {
    let current: ProviderUnderTest | undefined;
    const open = async () => {
      current = await setup();
      return current;
    };
    afterEach(async () => {
      await current?.provider.close();
      await current?.teardown?.();
      current = undefined;
    });

    it('emits schema-valid records of its own stream with unique ids', async () => {
      const { provider, query } = await open();
      const { records } = await readAll(provider, query);
      expect(records.length).toBeGreaterThan(0);
      const stream = provider.records(query);
      for (const record of records) {
        expect(KefuRecordSchema.safeParse(record).success).toBe(true);
        expect(record.provider).toBe(stream.key.provider);
        expect(record.account).toBe(stream.key.account);
      }
      expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    });

    it('fetches nothing before subscription (cold)', async () => {
      const { provider, query, pageRequests } = await open();
      const before = pageRequests();
      const stream = provider.records(query);
      await sleep(50);
      expect(pageRequests()).toBe(before);
      const first = await firstValueFrom(stream);
      expect(first).toBeDefined();
      expect(pageRequests()).toBeGreaterThan(before);
    });

    it('stops requesting pages after unsubscribe', async () => {
      const { provider, query, pageRequests } = await open();
      await firstValueFrom(provider.records(query).pipe(take(1)));
      await sleep(100);
      const settled = pageRequests();
      await sleep(150);
      expect(pageRequests()).toBe(settled);
      expect(settled).toBeLessThanOrEqual(1 + maxAhead);
    });

    it('emits the same records as an Observable and as pages, in checkpoint order', async () => {
      const { provider, query } = await open();
      const fromObservable = await firstValueFrom(provider.records(query).pipe(toArray()));
      const { records } = await readAll(provider, query);
      expect(fromObservable.map((r) => r.id)).toEqual(records.map((r) => r.id));
    });

    it('resumes from any emitted checkpoint with exactly the records after it', async () => {
      const { provider, query } = await open();
      const { records, checkpoints } = await readAll(provider, query);
      const ids = records.map((r) => r.id);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: records.length - 1 }), async (index) => {
          const rest = await readAll(provider, { ...query, resumeFrom: checkpoints[index] });
          expect(rest.records.map((r) => r.id)).toEqual(ids.slice(index + 1));
        }),
        { numRuns: options.resumeRuns ?? 8 },
      );
      const fromLast = await readAll(provider, { ...query, resumeFrom: checkpoints.at(-1) });
      expect(fromLast.records).toEqual([]);
    });

    it('fetches a bounded number of pages ahead of a slow consumer', async () => {
      const { provider, query, pageRequests } = await open();
      const before = pageRequests();
      let taken = 0;
      let maxSeenAhead = 0;
      for await (const _page of provider.records(query).pages()) {
        taken += 1;
        await sleep(dwellMs);
        maxSeenAhead = Math.max(maxSeenAhead, pageRequests() - before - taken);
        if (taken >= 6) break;
      }
      expect(maxSeenAhead).toBeLessThanOrEqual(maxAhead);
    });

    it('fails with a typed KefuError', async () => {
      const { provider, failingQuery } = await open();
      // Without a declared failing query, a malformed query must still be a typed error.
      const query = failingQuery ?? { from: 'not a date', to: 'nor this' };
      const error = await (async () => {
        try {
          await firstValueFrom(provider.records(query));
          return undefined;
        } catch (caught) {
          return caught;
        }
      })();
      expect(isKefuError(error)).toBe(true);
    });

    it('closes idempotently', async () => {
      const { provider } = await open();
      await provider.close();
      await expect(provider.close()).resolves.toBeUndefined();
    });

    it('refuses records() after close at once, with KEFU_PROVIDER_CLOSED', async () => {
      const { provider, query } = await open();
      await provider.close();
      // At once: a stream that failed only when read would let a sync start on a closed provider.
      expect(() => provider.records(query)).toThrow(expect.objectContaining({ code: 'KEFU_PROVIDER_CLOSED' }));
    });
  });
}
