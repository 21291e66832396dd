import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonLogger, isKefuError, type KefuRecord } from '@kefu/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTokenStore, type StoredToken } from '../src/token-stores.js';
import { beijingMidnightDaysAgo, rawKey, readAll, startWechatFixture } from './support/wechat-fixture.js';

const TOKEN_PATHS = /^\/cgi-bin\/(stable_)?token$/;

describe('tokens and faults against the emulator', () => {
  let fixture: Awaited<ReturnType<typeof startWechatFixture>>;
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    fixture = await startWechatFixture({ wechat: { tokenOverlapSeconds: 0 } });
    from = beijingMidnightDaysAgo(fixture.emulator.clock.now(), 12);
    to = new Date(from.getTime() + 10 * 86_400_000);
  });
  afterEach(() => {
    fixture.emulator.setFaults({});
  });
  afterAll(async () => {
    await fixture.close();
  });

  const expected = () => fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to }).map(rawKey);

  it('given concurrent calls, when no token is stored, then one token request serves them all (single-flight)', async () => {
    const provider = fixture.makeProvider();
    const before = fixture.emulator.requests.count({ path: TOKEN_PATHS });
    await Promise.all(Array.from({ length: 10 }, () => provider.client(fixture.appId).listAgents()));
    expect(fixture.emulator.requests.count({ path: TOKEN_PATHS }) - before).toBe(1);
  });

  it('given a token close to expiry on the local clock, when called, then it refreshes early', async () => {
    let now = Date.now();
    const provider = fixture.makeProvider({ refreshMarginMs: 300_000 }, { now: () => now });
    const client = provider.client(fixture.appId);
    await client.listAgents();
    const before = client.tokens.refreshCount;
    now += 7200_000 - 299_000; // inside the margin
    await client.listAgents();
    expect(client.tokens.refreshCount).toBe(before + 1);
  });

  it('given the token expires on the platform mid-sync, when syncing, then it refreshes once and loses nothing', async () => {
    const provider = fixture.makeProvider({ pageSize: 40 });
    const records: KefuRecord[] = [];
    let pages = 0;
    for await (const page of provider.records({ account: fixture.appId, from, to }).pages()) {
      records.push(...page.records);
      if (++pages === 5) fixture.emulator.clock.advance(7300_000);
    }
    expect(records.map(rawKey)).toEqual(expected());
    expect(fixture.emulator.requests.count({ errcode: 42001 })).toBeGreaterThanOrEqual(1);
    expect(provider.client(fixture.appId).tokens.refreshCount).toBe(2);
  });

  it('given tokens revoked every 7 calls, when syncing, then every revocation is recovered and nothing is lost', async () => {
    const provider = fixture.makeProvider({ pageSize: 20 });
    fixture.emulator.setFaults({ revokeTokenEveryCalls: 7 });
    const { records } = await readAll(provider.records({ account: fixture.appId, from, to }));
    expect(records.map(rawKey)).toEqual(expected());
    expect(fixture.emulator.requests.count({ fault: 'revoked' })).toBeGreaterThanOrEqual(3);
  });

  it('given two clients sharing a file token store, when both call, then they share one token and never invalidate each other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kefu-wechat-tokens-'));
    try {
      const tokenStore = { type: 'file' as const, path: join(dir, 'tokens.json') };
      // The classic endpoint invalidates the previous token at once here (overlap 0): the worst case.
      const first = fixture.makeProvider({ tokenEndpoint: 'classic', tokenStore });
      const second = fixture.makeProvider({ tokenEndpoint: 'classic', tokenStore });
      const before = fixture.emulator.requests.count({ path: '/cgi-bin/token' });
      const errorsBefore = fixture.emulator.requests.count({ errcode: 40001 });
      for (let i = 0; i < 5; i++) {
        await Promise.all([first.client(fixture.appId).listAgents(), second.client(fixture.appId).getWaitQueue()]);
      }
      expect(fixture.emulator.requests.count({ path: '/cgi-bin/token' }) - before).toBe(1);
      expect(fixture.emulator.requests.count({ errcode: 40001 }) - errorsBefore).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('given two clients with separate memory stores, when both call, then they invalidate each other (what the file store prevents)', async () => {
    const first = fixture.makeProvider({ tokenEndpoint: 'classic' });
    const second = fixture.makeProvider({ tokenEndpoint: 'classic' });
    const errorsBefore = fixture.emulator.requests.count({ errcode: 40001 });
    await first.client(fixture.appId).listAgents();
    await second.client(fixture.appId).listAgents();
    // The first client's token was revoked by the second's refresh: it recovers (refresh + retry once).
    await first.client(fixture.appId).listAgents();
    expect(fixture.emulator.requests.count({ errcode: 40001 }) - errorsBefore).toBe(1);
  });

  it('given a custom token store, when a token fails, then only that token is invalidated (compare-and-delete)', async () => {
    const invalidations: Array<{ token: string; deleted: boolean }> = [];
    const memory = new MemoryTokenStore();
    const store = {
      get: (appId: string) => memory.get(appId),
      set: (appId: string, token: StoredToken) => memory.set(appId, token),
      withLock: <T>(appId: string, fn: () => Promise<T>) => memory.withLock(appId, fn),
      invalidate: async (appId: string, token: string) => {
        const deleted = await memory.invalidate(appId, token);
        invalidations.push({ token, deleted });
        return deleted;
      },
    };
    const provider = fixture.makeProvider({}, { tokenStore: store });
    const client = provider.client(fixture.appId);
    await client.listAgents();
    const stale = (await memory.get(fixture.appId))?.token as string;
    fixture.emulator.setFaults({ revokeTokenEveryCalls: 1, pathPattern: 'getkflist' });
    await client.listAgents().catch(() => undefined);
    fixture.emulator.setFaults({});
    expect(invalidations[0]).toEqual({ token: stale, deleted: true });
    // Simulate another process that stored a fresh token meanwhile: the failed one must not delete it.
    await memory.set(fixture.appId, { token: 'fresh-from-elsewhere-1234', expiresAt: Date.now() + 3600_000 });
    await client.tokens.invalidate(stale);
    expect((await memory.get(fixture.appId))?.token).toBe('fresh-from-elsewhere-1234');
  });

  it('given busy (-1), 5xx, resets, malformed and truncated bodies, when syncing, then retries make it lossless', async () => {
    const provider = fixture.makeProvider({ pageSize: 50, retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 4 } });
    fixture.emulator.setFaults({
      seed: 7,
      wechatBusyRate: 0.15,
      serverErrorRate: 0.1,
      connectionResetRate: 0.05,
      malformedBodyRate: 0.05,
      truncatedBodyRate: 0.05,
    });
    const { records } = await readAll(provider.records({ account: fixture.appId, from, to }));
    expect(records.map(rawKey)).toEqual(expected());
    const faults = new Set(fixture.emulator.requests.entries().map((entry) => entry.fault));
    // The fault dice are seeded: this run meets several transport faults and platform busy answers.
    expect(faults.has('reset') || faults.has('server-error') || faults.has('malformed')).toBe(true);
  });

  it('given the platform is busy (-1) half the time, when syncing, then back-off retries make it lossless', async () => {
    const provider = fixture.makeProvider({ pageSize: 50, retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 4 } });
    fixture.emulator.setFaults({ seed: 5, wechatBusyRate: 0.5 });
    const { records } = await readAll(provider.records({ account: fixture.appId, from, to }));
    expect(records.map(rawKey)).toEqual(expected());
    expect(fixture.emulator.requests.count({ fault: 'busy' })).toBeGreaterThan(0);
  });

  it('given the platform stays busy, when the attempts run out, then the call fails with a retryable WECHAT_SYSTEM_BUSY', async () => {
    const provider = fixture.makeProvider({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await provider.client(fixture.appId).listAgents();
    fixture.emulator.setFaults({ wechatBusyRate: 1 });
    const before = fixture.emulator.requests.count({ fault: 'busy' });
    const error = await provider
      .client(fixture.appId)
      .listAgents()
      .catch((e: unknown) => e);
    expect(isKefuError(error) && [error.code, error.retryable, error.details.errcode]).toEqual([
      'WECHAT_SYSTEM_BUSY',
      true,
      -1,
    ]);
    expect(fixture.emulator.requests.count({ fault: 'busy' }) - before).toBe(3);
  });

  it('given a connection reset while sending a message, then it is not retried (no double send)', async () => {
    const provider = fixture.makeProvider();
    const client = provider.client(fixture.appId);
    await client.listAgents();
    fixture.emulator.setFaults({ connectionResetRate: 1, pathPattern: 'message/custom/send' });
    const before = fixture.emulator.requests.count({ path: '/cgi-bin/message/custom/send' });
    const error = await client
      .sendMessage({ openid: 'o-anyone', message: { msgtype: 'text', text: { content: 'once' } } })
      .catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_HTTP_NETWORK');
    expect(fixture.emulator.requests.count({ path: '/cgi-bin/message/custom/send' }) - before).toBe(1);
  });

  it('given the per-minute quota (45011), when calling, then it waits for the next minute and succeeds', async () => {
    // The provider's clock sits 40 ms before a minute boundary, so "the next minute" is near.
    const provider = fixture.makeProvider({}, { now: () => Math.floor(Date.now() / 60_000) * 60_000 + 59_960 });
    fixture.emulator.setFaults({ seed: 3, wechatMinuteQuotaRate: 0.5 });
    for (let i = 0; i < 6; i++) await provider.client(fixture.appId).listAgents();
    expect(fixture.emulator.requests.count({ errcode: 45011 })).toBeGreaterThan(0);
  });

  it('given the daily quota (45009) mid-sync, then the stream stops with WECHAT_45009 and resumes from its checkpoint losslessly', async () => {
    const provider = fixture.makeProvider({ pageSize: 40 });
    fixture.emulator.setFaults({ wechatDailyQuotaAfterCalls: 6 });
    const delivered: KefuRecord[] = [];
    let checkpoint: import('@kefu/core').Checkpoint | undefined;
    const error = await (async () => {
      for await (const page of provider.records({ account: fixture.appId, from, to }).pages()) {
        delivered.push(...page.records);
        checkpoint = page.checkpoint;
      }
    })().catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('WECHAT_45009');
    expect(isKefuError(error) && error.details.quotaExhausted).toBe(true);
    expect(isKefuError(error) && error.retryable).toBe(false);
    expect(fixture.emulator.requests.count({ errcode: 45009 })).toBe(1);
    fixture.emulator.setFaults({});
    const rest = await readAll(provider.records({ account: fixture.appId, from, to, resumeFrom: checkpoint }));
    expect([...delivered, ...rest.records].map(rawKey)).toEqual(expected());
  });

  it('never writes the secret or a token to the log, even while recovering from revocations', async () => {
    const lines: string[] = [];
    const tokens = new MemoryTokenStore();
    const seen = new Set<string>();
    const store = {
      get: (appId: string) => tokens.get(appId),
      set: async (appId: string, token: StoredToken) => {
        seen.add(token.token);
        await tokens.set(appId, token);
      },
      invalidate: (appId: string, token: string) => tokens.invalidate(appId, token),
    };
    const provider = fixture.makeProvider(
      { pageSize: 100 },
      { tokenStore: store, logger: createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }) },
    );
    fixture.emulator.setFaults({ revokeTokenEveryCalls: 3, wechatBusyRate: 0.2, seed: 11 });
    await readAll(provider.records({ account: fixture.appId, from, to: new Date(from.getTime() + 3 * 86_400_000) }));
    expect(lines.length).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(1);
    const log = lines.join('\n');
    expect(log).not.toContain(fixture.account.secret);
    for (const token of seen) expect(log).not.toContain(token);
  });
});
