import {
  KefuProviderBase,
  type PageSource,
  type ProviderCapability,
  type ProviderRecordSource,
  type RecordQuery,
  type RecordStreamOptions,
} from '@kefu/core';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

/** The smallest provider on the base: one account, one page of one record. */
class OnePageProvider extends KefuProviderBase {
  readonly id = 'one';
  readonly platform = 'one-page';
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set();
  releases = 0;
  queries: RecordQuery[] = [];

  constructor(streamOptions?: RecordStreamOptions) {
    super(streamOptions ? { streamOptions } : {});
  }

  accounts(): readonly string[] {
    return ['a'];
  }

  protected recordSource(query: RecordQuery): ProviderRecordSource {
    this.queries.push(query);
    const source: PageSource = {
      async *pages() {
        yield {
          records: [
            {
              id: 'r1',
              provider: 'one-page',
              account: 'a',
              customer: 'c',
              direction: 'inbound',
              kind: 'text',
              text: 'hi',
              at: '2026-01-01T00:00:00.000Z',
              raw: {},
            },
          ],
          position: 1,
        };
      },
    };
    return { key: { provider: this.platform, account: 'a' }, source };
  }

  protected async release(): Promise<void> {
    this.releases += 1;
  }
}

describe('KefuProviderBase', () => {
  it('validates the query once for every provider, naming the field', () => {
    const provider = new OnePageProvider();
    expect(() => provider.records({ from: '2026-01-02', to: '2026-01-01' })).toThrow(
      expect.objectContaining({
        code: 'KEFU_QUERY_INVALID',
        message: expect.stringContaining('one-page records: from: `from` must not be after `to`'),
      }),
    );
    expect(provider.queries).toEqual([]);
  });

  it('hands the subclass the parsed query and applies the stream options to every stream', async () => {
    const pages: number[] = [];
    const provider = new OnePageProvider({ onPageFetched: ({ records }) => pages.push(records) });
    const records = await firstValueFrom(provider.records({ from: '2026-01-01', to: '2026-01-02' }).pipe(toArray()));
    expect(records.map((record) => record.id)).toEqual(['r1']);
    expect(provider.queries[0]?.from).toEqual(new Date('2026-01-01'));
    expect(pages).toEqual([1]);
  });

  it('releases once however often close() is called, then refuses records() at once', async () => {
    const provider = new OnePageProvider();
    expect(provider.closed).toBe(false);
    await Promise.all([provider.close(), provider.close()]);
    await expect(provider.close()).resolves.toBeUndefined();
    expect(provider.releases).toBe(1);
    expect(provider.closed).toBe(true);
    expect(() => provider.records({ from: '2026-01-01', to: '2026-01-02' })).toThrow(
      expect.objectContaining({ code: 'KEFU_PROVIDER_CLOSED' }),
    );
  });
});
