import { type HttpClient, type HttpRequest, isKefuError, undiciHttpClientFactory } from '@kefu/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MsgIdPageSource, PageIndexPageSource } from '../src/record-pages.js';
import { beijingMidnightDaysAgo, rawKey, readAll, startWechatFixture } from './support/wechat-fixture.js';

describe('records() against the emulator', () => {
  let fixture: Awaited<ReturnType<typeof startWechatFixture>>;
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    fixture = await startWechatFixture();
    const now = fixture.emulator.clock.now();
    // 30 whole days ending at today's Beijing midnight, plus the part of today up to now.
    from = beijingMidnightDaysAgo(now, 30);
    to = new Date(now - 1000);
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('given 30 days, when synced with getmsglist, then equals the ground truth: no loss, no duplicate', async () => {
    const provider = fixture.makeProvider({ pageSize: 37 });
    const expected = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to });
    const { records } = await readAll(provider.records({ account: fixture.appId, from, to }));
    expect(expected.length).toBeGreaterThan(500);
    expect(records.map(rawKey)).toEqual(expected.map(rawKey));
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    // Windows never exceed 24 h and are aligned on Beijing midnight (the emulator refuses more).
    expect(fixture.emulator.requests.count({ path: '/customservice/msgrecord/getmsglist', errcode: 65417 })).toBe(0);
  });

  it('given a customer, when synced, then yields exactly that customer’s records', async () => {
    const provider = fixture.makeProvider({ pageSize: 100 });
    const all = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to });
    const openid = all[0]?.openid as string;
    const expected = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to, openid });
    const { records } = await readAll(provider.records({ account: fixture.appId, from, to, customer: openid }));
    expect(records.map(rawKey)).toEqual(expected.map(rawKey));
    expect(records.every((r) => r.customer === openid)).toBe(true);
  });

  it('given random checkpoints, when resuming, then yields exactly the records after each (property)', async () => {
    const provider = fixture.makeProvider({ pageSize: 23 });
    const shortTo = new Date(from.getTime() + 4 * 86_400_000 + 5 * 3600_000);
    const query = { account: fixture.appId, from, to: shortTo };
    const { records, checkpoints } = await readAll(provider.records(query));
    const ids = records.map((r) => r.id);
    expect(ids.length).toBeGreaterThan(100);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: ids.length - 1 }), async (index) => {
        const rest = await readAll(provider.records({ ...query, resumeFrom: checkpoints[index] }));
        expect(rest.records.map((r) => r.id)).toEqual(ids.slice(index + 1));
      }),
      { numRuns: 12, seed: 4242 },
    );
  });

  it('given a checkpoint of a range cut mid-day, when a later sync extends `to`, then it continues without loss or duplicate', async () => {
    const provider = fixture.makeProvider({ pageSize: 17 });
    const cut = new Date(from.getTime() + 2 * 86_400_000 + 13 * 3600_000 + 7 * 60_000);
    const later = new Date(from.getTime() + 4 * 86_400_000);
    const first = await readAll(provider.records({ account: fixture.appId, from, to: cut }));
    const last = first.checkpoints.at(-1);
    const second = await readAll(provider.records({ account: fixture.appId, from, to: later, resumeFrom: last }));
    const expected = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to: later });
    expect([...first.records, ...second.records].map(rawKey)).toEqual(expected.map(rawKey));
  });

  it('given the final checkpoint, when resuming the same query, then yields nothing', async () => {
    const provider = fixture.makeProvider({ pageSize: 500 });
    const query = { account: fixture.appId, from, to: new Date(from.getTime() + 2 * 86_400_000) };
    const { checkpoints } = await readAll(provider.records(query));
    const again = await readAll(provider.records({ ...query, resumeFrom: checkpoints.at(-1) }));
    expect(again.records).toEqual([]);
  });

  it.each(['2015', 'legacy'] as const)(
    'given the %s getrecord API, when synced, then yields every opercode with the same ids as getmsglist for the messages',
    async (recordApi) => {
      const range = { account: fixture.appId, from, to: new Date(from.getTime() + 3 * 86_400_000) };
      const current = await readAll(fixture.makeProvider({ pageSize: 1000 }).records(range));
      const legacy = await readAll(fixture.makeProvider({ recordApi, pageSize: 40 }).records(range));
      const messages = legacy.records.filter((r) => {
        const opercode = (r.raw as { opercode: number }).opercode;
        return opercode === 2002 || opercode === 2003;
      });
      expect(messages.map((r) => r.id)).toEqual(current.records.map((r) => r.id));
      expect(new Set(legacy.records.map((r) => r.id)).size).toBe(legacy.records.length);
      expect(legacy.records.length).toBeGreaterThanOrEqual(current.records.length);
      // Resuming mid-window by pageindex yields exactly the rest.
      const index = Math.floor(legacy.records.length / 2);
      const rest = await readAll(
        fixture.makeProvider({ recordApi, pageSize: 40 }).records({ ...range, resumeFrom: legacy.checkpoints[index] }),
      );
      expect(rest.records.map((r) => r.id)).toEqual(legacy.records.slice(index + 1).map((r) => r.id));
    },
  );

  it.each(['msglist', '2015'] as const)(
    'given the %s API, when one page is taken and the next is not, then exactly one further request is in flight (read-ahead)',
    async (api) => {
      // Counts record-page answers the provider has received (not only those the emulator sent).
      let received = 0;
      const path = api === 'msglist' ? '/customservice/msgrecord/getmsglist' : '/customservice/msgrecord/getrecord';
      const countingFactory = {
        create: (options: Parameters<typeof undiciHttpClientFactory.create>[0]): HttpClient => {
          const http = undiciHttpClientFactory.create(options);
          const counted = <T>(request: HttpRequest, answer: Promise<T>) =>
            answer.finally(() => {
              if (request.path === path) received += 1;
            });
          return {
            request: (request) => counted(request, http.request(request)),
            requestJson: (request, schema) => counted(request, http.requestJson(request, schema)),
            close: () => http.close(),
          };
        },
      };
      const provider = fixture.makeProvider({ recordApi: api, pageSize: 10 }, { httpClients: countingFactory });
      const window = {
        appId: fixture.appId,
        from: Math.ceil(from.getTime() / 1000),
        to: Math.ceil(from.getTime() / 1000) + 86_400,
        pageSize: 10,
      };
      const source =
        api === 'msglist'
          ? new MsgIdPageSource(provider.client(fixture.appId), window)
          : new PageIndexPageSource(provider.client(fixture.appId), api, window);
      const controller = new AbortController();
      const pages = source.pages(null, controller.signal)[Symbol.asyncIterator]();
      const before = fixture.emulator.requests.count({ path });
      const first = await pages.next();
      expect(first.done).toBe(false);
      // The second page is requested while the first is handed out; nothing more until it is taken.
      await vi.waitFor(() => expect(fixture.emulator.requests.count({ path })).toBe(before + 2));
      // Once the provider holds the read-ahead page's answer, nothing may ask for a third.
      await vi.waitFor(() => expect(received).toBe(2));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(fixture.emulator.requests.count({ path })).toBe(before + 2);
      const second = await pages.next();
      expect(second.done).toBe(false);
      await vi.waitFor(() => expect(fixture.emulator.requests.count({ path })).toBe(before + 3));
      controller.abort();
      await pages.return?.(undefined);
    },
  );

  it('given a checkpoint of another record API, when resuming, then fails with KEFU_CHECKPOINT_INVALID', async () => {
    const range = { account: fixture.appId, from, to: new Date(from.getTime() + 86_400_000) };
    const { checkpoints } = await readAll(fixture.makeProvider({ pageSize: 10 }).records(range));
    const stream = fixture.makeProvider({ recordApi: 'legacy' }).records({ ...range, resumeFrom: checkpoints.at(-1) });
    const error = await readAll(stream).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_CHECKPOINT_INVALID');
  });

  it('given an invalid query, when records() is called, then it fails with KEFU_QUERY_INVALID', () => {
    const provider = fixture.makeProvider();
    expect(() => provider.records({ account: fixture.appId, from: to, to: from })).toThrow(/from/);
    // Two accounts configured: the account must be named.
    const error = (() => {
      try {
        provider.records({ from, to });
      } catch (e) {
        return e;
      }
    })();
    expect(isKefuError(error) && error.code).toBe('KEFU_QUERY_INVALID');
    expect(() => provider.records({ account: 'wx-not-configured', from, to })).toThrow(/not configured/);
  });
});
