import {
  type Checkpoint,
  createJsonLogger,
  type HttpClientFactory,
  type KefuRecord,
  undiciHttpClientFactory,
} from '@kefu/core';
import fc from 'fast-check';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { YOUMI_TYPE_RULES } from '../src/chat-normalizer.js';
import { YoumiProvider } from '../src/youmi-provider.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

const DAY = 86_400_000;
let running: YoumiEmulator | undefined;
let provider: YoumiProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await running?.emulator.stop();
  provider = undefined;
  running = undefined;
});

async function setup(youmi: Record<string, unknown> = {}, faults: Record<string, unknown> = {}) {
  running = await startYoumiEmulator(youmi, faults);
  const emulator = running;
  provider = new YoumiProvider(emulator.config(), { now: () => emulator.emulator.clock.now() });
  return { emulator, provider };
}

/** Reads a whole stream with the checkpoint after every record and the final one. */
async function readAll(source: YoumiProvider, query: Parameters<YoumiProvider['records']>[0]) {
  const records: KefuRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  let final: Checkpoint | undefined;
  for await (const batch of source.records(query).batches({ size: 1 })) {
    records.push(...batch.records);
    if (batch.records.length > 0) checkpoints.push(batch.checkpoint);
    final = batch.checkpoint;
  }
  return { records, checkpoints, final };
}

/** The ground truth in the provider's order: fans in GetFansList order, each fan's chats by id. */
function expectedIds(emulator: YoumiEmulator, wechatId: number, from: number, to: number): string[] {
  return emulator.youmi
    .fans(wechatId)
    .flatMap((fan) =>
      emulator.youmi
        .expectedChats({ wechatId, from: new Date(from), to: new Date(to - 1), fansKey: fan.fansKey })
        .map((chat) => `${wechatId}:${chat.ad_chatting_id}`),
    );
}

describe('YoumiProvider records against the emulator', () => {
  it('emits exactly the chats of the range, fan by fan, as the emulator holds them', async () => {
    const { emulator, provider } = await setup();
    const from = emulator.start - 2 * DAY;
    const to = emulator.start;
    const records = await firstValueFrom(provider.records({ account: '10001', from, to }).pipe(toArray()));
    expect(records.length).toBeGreaterThan(20);
    expect(records.map((r) => r.id)).toEqual(expectedIds(emulator, 10001, from, to));
    for (const record of records) {
      expect(Date.parse(record.at)).toBeGreaterThanOrEqual(from);
      expect(Date.parse(record.at)).toBeLessThan(to);
    }
  });

  it('decodes every message type the emulator serves into its kind, unknown codes included', async () => {
    const { emulator, provider } = await setup({ fansPerAccount: 30, chatsPerFan: 40, days: 5, unknownTypeRate: 0.05 });
    const records = await firstValueFrom(
      provider.records({ account: '10001', from: emulator.start - 5 * DAY, to: emulator.start }).pipe(toArray()),
    );
    const seen = new Map<number, Set<string>>();
    for (const record of records) {
      const code = (record.raw as { ad_chatting_sate: number }).ad_chatting_sate;
      const kinds = seen.get(code) ?? new Set<string>();
      kinds.add(record.kind);
      seen.set(code, kinds);
    }
    for (const [code, kinds] of seen) {
      const expected = code === 4 ? ['image', 'voice'] : [YOUMI_TYPE_RULES.get(code)?.kind ?? 'unknown'];
      expect(
        [...kinds].every((kind) => expected.includes(kind)),
        `type ${code} → ${[...kinds]}`,
      ).toBe(true);
    }
    expect(seen.get(77777)).toEqual(new Set(['unknown']));
    // The data set is large enough to contain most documented types.
    expect(seen.size).toBeGreaterThan(20);
  });

  it('resumes from any checkpoint, also one inside a fan, with exactly the rest', async () => {
    const { emulator, provider } = await setup();
    const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
    const { records, checkpoints } = await readAll(provider, query);
    const ids = records.map((r) => r.id);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: ids.length - 1 }), async (index) => {
        const rest = await readAll(provider as YoumiProvider, { ...query, resumeFrom: checkpoints[index] });
        expect(rest.records.map((r) => r.id)).toEqual(ids.slice(index + 1));
      }),
      { numRuns: 12, seed: 42 },
    );
  });

  it('after a crash mid-fan, a restart from the saved checkpoint reads neither old nor skips new records', async () => {
    const { emulator, provider } = await setup();
    const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
    const all = (await readAll(provider, query)).records.map((r) => r.id);
    // Consume until the middle of a fan's second page, then stop as a crash would.
    let saved: Checkpoint | undefined;
    const delivered: string[] = [];
    for await (const batch of provider.records(query).batches({ size: 3 })) {
      delivered.push(...batch.records.map((r) => r.id));
      saved = batch.checkpoint;
      if (delivered.length >= 14) break;
    }
    expect((saved?.position as { key: string | null } | undefined)?.key).toEqual(expect.any(String));
    const rest = (await readAll(provider, { ...query, resumeFrom: saved })).records.map((r) => r.id);
    expect([...delivered, ...rest]).toEqual(all);
  });

  it('picks up new chats of every fan on a later run without re-reading old ones', async () => {
    const { emulator, provider } = await setup();
    const from = emulator.start - 3 * DAY;
    const first = await readAll(provider, { account: '10001', from, to: emulator.start });
    expect((first.final?.position as { done: boolean } | undefined)?.done).toBe(true);
    // New chats after the first run: one to the first fan and one to the last (both ends of the list).
    emulator.emulator.clock.advance(60_000);
    const fans = emulator.youmi.fans(10001);
    await provider.client.sendMessage({
      wechatId: 10001,
      toUserName: fans[0]?.fansKey as string,
      msgType: 'text',
      text: '新消息1',
    });
    emulator.emulator.clock.advance(5_000);
    await provider.client.sendMessage({
      wechatId: 10001,
      toUserName: fans.at(-1)?.fansKey as string,
      msgType: 'text',
      text: '新消息2',
    });
    emulator.emulator.clock.advance(5_000);
    const second = await readAll(provider, {
      account: '10001',
      from,
      to: emulator.emulator.clock.now(),
      resumeFrom: first.final,
    });
    // The new chats are the newest of the whole account in the ground truth.
    const truth = emulator.youmi.expectedChats({
      wechatId: 10001,
      from: new Date(from),
      to: new Date(emulator.emulator.clock.now()),
    });
    const newest = truth.slice(-2).map((chat) => `10001:${chat.ad_chatting_id}`);
    expect(second.records.map((r) => r.id)).toEqual(newest);
    expect(second.records.map((r) => r.text)).toEqual(['新消息1', '新消息2']);
    // And a third run with nothing new returns nothing.
    const third = await readAll(provider, {
      account: '10001',
      from,
      to: emulator.emulator.clock.now(),
      resumeFrom: second.final,
    });
    expect(third.records).toEqual([]);
  });

  it('reads up to fanConcurrency fans at once, yet emits them in fan-list order', async () => {
    running = await startYoumiEmulator({ fansPerAccount: 12 }, { latencyMs: 20, pathPattern: 'GetChat' });
    const emulator = running;
    let inFlight = 0;
    let maxInFlight = 0;
    // Counts GetChat requests in flight at the HTTP client: no timing involved.
    const counting: HttpClientFactory = {
      create(options) {
        const client = undiciHttpClientFactory.create(options);
        return {
          requestJson: (request, schema) => client.requestJson(request, schema),
          request: async (request) => {
            const isChat = request.path.endsWith('/GetChat');
            if (isChat) maxInFlight = Math.max(maxInFlight, ++inFlight);
            try {
              return await client.request(request);
            } finally {
              if (isChat) inFlight -= 1;
            }
          },
          close: () => client.close(),
        };
      },
    };
    provider = new YoumiProvider(emulator.config({ fanConcurrency: 3, pageSize: 100 }), {
      httpClients: counting,
      now: () => emulator.emulator.clock.now(),
    });
    const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
    const records = await firstValueFrom(provider.records(query).pipe(toArray()));
    expect(records.map((r) => r.id)).toEqual(expectedIds(emulator, 10001, query.from, query.to));
    expect(maxInFlight).toBe(3);
  });

  it('survives token expiry mid-sync (clock pushed past the token lifetime)', async () => {
    const { emulator, provider } = await setup({ tokenLifetimeSeconds: 600 });
    const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
    const ids: string[] = [];
    let pages = 0;
    for await (const page of provider.records(query).pages()) {
      ids.push(...page.records.map((r) => r.id));
      pages += 1;
      // Half-way through, two hours pass: the token the client holds has expired.
      if (pages === 3) emulator.emulator.clock.advance(2 * 3_600_000);
    }
    expect(ids).toEqual(expectedIds(emulator, 10001, query.from, query.to));
    expect(emulator.emulator.requests.count({ path: /connect\/token$/ })).toBe(2);
  });

  it('refreshes and goes on when the platform revokes tokens during a sync', async () => {
    const { emulator, provider } = await setup({}, { revokeTokenEveryCalls: 7 });
    const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
    const { records } = await readAll(provider, query);
    expect(records.map((r) => r.id)).toEqual(expectedIds(emulator, 10001, query.from, query.to));
    expect(emulator.emulator.requests.count({ path: /connect\/token$/ })).toBeGreaterThan(2);
  });

  it('given a token revoked while 4 fans are read in parallel, then one token request per revocation and every chat arrives', async () => {
    // Latency keeps several GetChat calls in flight when the fault revokes the token they carry;
    // jitter spreads their refusals, some arriving after the new token is cached.
    const { emulator, provider } = await setup(
      { fansPerAccount: 16 },
      { latencyMs: 2, jitterMs: 30, revokeTokenEveryCalls: 9, pathPattern: 'GetChat' },
    );
    const parallel = new YoumiProvider(emulator.config({ fanConcurrency: 4 }), {
      now: () => emulator.emulator.clock.now(),
    });
    await provider.close();
    try {
      const query = { account: '10001', from: emulator.start - 3 * DAY, to: emulator.start };
      const { records } = await readAll(parallel, query);
      expect(records.map((r) => r.id)).toEqual(expectedIds(emulator, 10001, query.from, query.to));
      const log = emulator.emulator.requests;
      const revocations = log.count({ path: '/v2/ChatMess/GetChat', fault: 'revoked' });
      const refused = log.count({ path: '/v2/ChatMess/GetChat', errcode: 10003 });
      expect(revocations).toBeGreaterThan(0);
      // Calls already in flight with the revoked token were refused too: the parallel case happened.
      expect(refused).toBeGreaterThan(revocations);
      expect(log.count({ path: '/connect/token' })).toBe(1 + revocations);
    } finally {
      await parallel.close();
    }
  });

  it('returns nothing, and asks nothing, from a completed pass reaching past the query (a state from the future)', async () => {
    const { emulator, provider } = await setup();
    const future = {
      provider: 'youmi',
      account: '10001',
      position: {
        v: 2,
        from: emulator.start - DAY,
        to: emulator.start + 10 * DAY,
        bounded: false,
        prior: [],
        read: [],
        fan: 12,
        key: null,
        at: null,
        done: true,
      },
      skip: 0,
    };
    const before = emulator.emulator.requests.count({ path: '/v2/ChatMess/GetChat' });
    const { records } = await readAll(provider, {
      account: '10001',
      from: emulator.start - DAY,
      to: emulator.start,
      resumeFrom: future,
    });
    expect(records).toEqual([]);
    expect(emulator.emulator.requests.count({ path: '/v2/ChatMess/GetChat' })).toBe(before);
  });

  it('logs passes and token fetches at debug level, never the secret or the token', async () => {
    running = await startYoumiEmulator();
    const emulator = running;
    const lines: string[] = [];
    provider = new YoumiProvider(emulator.config(), {
      logger: createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }),
      now: () => emulator.emulator.clock.now(),
    });
    await readAll(provider, { account: '10001', from: emulator.start - DAY, to: emulator.start });
    const messages = lines.map((line) => JSON.parse(line).msg);
    expect(messages).toEqual(
      expect.arrayContaining(['youmi bearer token fetched', 'youmi pass started', 'youmi pass complete']),
    );
    expect(lines.join('\n')).not.toContain(emulator.youmi.clientSecret);
  });

  it('reads one customer only when the query names one', async () => {
    const { emulator, provider } = await setup();
    const fan = emulator.youmi.fans(10001)[3]?.fansKey as string;
    const query = { account: '10001', customer: fan, from: emulator.start - 3 * DAY, to: emulator.start };
    const records = await firstValueFrom(provider.records(query).pipe(toArray()));
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((r) => r.customer))).toEqual(new Set([fan]));
  });

  it('rejects malformed envelopes with a clear error once retries are spent', async () => {
    const { emulator, provider } = await setup({}, { malformedBodyRate: 1 });
    const query = { account: '10001', from: emulator.start - DAY, to: emulator.start };
    const error = await firstValueFrom(provider.records(query)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'YOUMI_BAD_ENVELOPE' });
  });

  it('refuses an account it does not serve and a foreign checkpoint with typed errors', async () => {
    const { emulator, provider } = await setup();
    expect(() => provider.records({ account: '999', from: emulator.start - DAY, to: emulator.start })).toThrow(
      expect.objectContaining({ code: 'YOUMI_ACCOUNT_UNKNOWN' }),
    );
    const bogus = { provider: 'youmi', account: '10001', position: { page: 3 }, skip: 0 };
    const error = await firstValueFrom(
      provider.records({ account: '10001', from: emulator.start - DAY, to: emulator.start, resumeFrom: bogus }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'YOUMI_CHECKPOINT_INVALID' });
  });
});
