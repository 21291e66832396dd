import { type Checkpoint, isKefuError, type KefuRecord, type ProviderWarning } from '@kefu/core';
import {
  DEFAULT_RECORD_KNOBS,
  describeRecordReading,
  type RunningEmulator,
  startEmulator,
  type WechatRawRecord,
  type WechatRecordKnobs,
  wechatRecordReadings,
} from '@kefu/emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { recordId, recordIdentity } from '../src/record-normalizer.js';
import { WechatMpProvider } from '../src/wechat-mp-provider.js';
import { beijingMidnightDaysAgo, FAST_RETRY, rawKey, readAll } from './support/wechat-fixture.js';

// The ambiguity matrix (issue 17): the getmsglist stream against every reading of the docs
// the emulator offers (wechatRecordReadings: global ids × {inclusive + last, inclusive + next,
// exclusive + last} and the position model, each with endtime exclusive and inclusive). Each
// property asserts that what the provider delivers is exactly the emulator's ground truth:
// the same raw records in the same order, each once, with the ids kefu derives from them.

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0); // 12:00 in Beijing
let emulator: RunningEmulator;
let appId: string;
/** A busy account: four records a second, so neighbours often share a second and have consecutive msgids. */
let busy: RunningEmulator;
const providers: WechatMpProvider[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 'msglist-readings',
    now: NOW,
    freezeClock: true,
    wechat: { accounts: 1, customers: 30, days: 8, recordsPerDay: 240 },
  });
  appId = emulator.wechat.accounts[0]!.appId;
  busy = await startEmulator({
    seed: 'msglist-busy',
    now: NOW,
    freezeClock: true,
    wechat: { accounts: 1, customers: 30, days: 2, recordsPerDay: 4 * 86_400, uniformDays: true },
  });
});
afterAll(async () => {
  await Promise.all(providers.map((provider) => provider.close()));
  await Promise.all([emulator.stop(), busy.stop()]);
});

function provider(pageSize: number, on: RunningEmulator = emulator): WechatMpProvider {
  const made = new WechatMpProvider(
    { accounts: on.wechat.accounts, baseUrl: on.wechat.baseUrl, retry: FAST_RETRY, pageSize },
    {},
  );
  providers.push(made);
  return made;
}

/** The ids kefu must derive from the ground truth: sha256 of the identity and its occurrence. */
function expectedIds(appId: string, truth: readonly WechatRawRecord[]): string[] {
  const seen = new Map<string, number>();
  return truth.map((raw) => {
    const identity = recordIdentity(appId, raw);
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    return recordId(identity, occurrence);
  });
}

/** Delivered records equal the ground truth of `[from, to)`: raw records, order, ids, nothing twice. */
function expectGroundTruth(records: readonly KefuRecord[], from: Date, to: Date, on: RunningEmulator = emulator): void {
  const truth = on.wechat.expectedRecords({ appId: on.wechat.accounts[0]!.appId, from, to });
  expect(records.map(rawKey)).toEqual(truth.map(rawKey));
  expect(records.map((record) => record.id)).toEqual(expectedIds(on.wechat.accounts[0]!.appId, truth));
}

// Fixed to the start clock: tests that advance the clock (or a shrinking property) do not move it.
const historyStart = () => beijingMidnightDaysAgo(NOW, 6).getTime();
/** A range inside the seeded history, starting anywhere (mid-day too), up to three days long. */
const rangeArbitrary = () =>
  fc.record({ startOffset: fc.integer({ min: 0, max: 5 * 86_400 }), length: fc.integer({ min: 1, max: 3 * 86_400 }) });

/** Any range of the seeded history read with any page size (1–60) on `on` equals its ground truth (property). */
async function expectAnyRangeReadsGroundTruth(on: RunningEmulator, options: { seed: number; numRuns: number }) {
  await fc.assert(
    fc.asyncProperty(rangeArbitrary(), fc.integer({ min: 1, max: 60 }), async ({ startOffset, length }, pageSize) => {
      const from = new Date(historyStart() + startOffset * 1000);
      const to = new Date(from.getTime() + length * 1000);
      const { records } = await readAll(
        provider(pageSize, on).records({ account: on.wechat.accounts[0]!.appId, from, to }),
      );
      expectGroundTruth(records, from, to, on);
    }),
    options,
  );
}

describe.each(wechatRecordReadings().map((knobs) => [describeRecordReading(knobs), knobs] as const))(
  'the getmsglist stream under the reading %s',
  (_name, knobs: WechatRecordKnobs) => {
    beforeAll(() => {
      emulator.wechat.setRecordKnobs(knobs);
      busy.wechat.setRecordKnobs(knobs);
    });
    afterAll(() => {
      emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
      emulator.setFaults({});
    });

    it('given a busy account (consecutive msgids at many page boundaries), when any short range is read with any page size, then it delivers exactly the ground truth (property)', async () => {
      const dayStart = beijingMidnightDaysAgo(busy.clock.now(), 1).getTime();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 86_000 }),
          fc.integer({ min: 60, max: 1200 }),
          fc.integer({ min: 2, max: 60 }),
          async (startOffset, length, pageSize) => {
            const from = new Date(dayStart + startOffset * 1000);
            const to = new Date(from.getTime() + length * 1000);
            const { records } = await readAll(
              provider(pageSize, busy).records({ account: busy.wechat.accounts[0]!.appId, from, to }),
            );
            expectGroundTruth(records, from, to, busy);
          },
        ),
        { numRuns: 6, seed: 1700 },
      );
    });

    it('given any range and any page size, when read, then it delivers exactly the ground truth (property)', async () => {
      await expectAnyRangeReadsGroundTruth(emulator, { numRuns: 8, seed: 1701 });
    });

    it('given the checkpoint after any record, when resumed, then it delivers exactly the records after it (property)', async () => {
      const from = new Date(historyStart() + 3 * 3600_000);
      const to = new Date(from.getTime() + 2 * 86_400_000);
      const reader = provider(13);
      const all = await readAll(reader.records({ account: appId, from, to }));
      expectGroundTruth(all.records, from, to);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: all.records.length - 1 }), async (index) => {
          const rest = await readAll(reader.records({ account: appId, from, to, resumeFrom: all.checkpoints[index] }));
          expect(rest.records.map((r) => r.id)).toEqual(all.records.slice(index + 1).map((r) => r.id));
        }),
        { numRuns: 6, seed: 1702 },
      );
    });

    it('given syncs cut by `to` near the clock while new records arrive and are listed late, when each resumes the last, then together they deliver exactly the ground truth (property)', async () => {
      // Its own emulator, its clock at 00:30 in Beijing: the seeded day lies ahead of the syncs.
      const lagging = await startEmulator({
        seed: 'msglist-lag',
        now: Date.UTC(2026, 0, 14, 16, 30),
        freezeClock: true,
        wechat: { accounts: 1, customers: 30, days: 2, recordsPerDay: 2400, records: knobs },
      });
      onTestFinished(() => lagging.stop());
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({ advance: fc.integer({ min: 0, max: 1800 }), behind: fc.integer({ min: 0, max: 300 }) }),
            {
              minLength: 1,
              maxLength: 4,
            },
          ),
          fc.constantFrom(0, 90),
          fc.integer({ min: 2, max: 40 }),
          async (syncs, lag, pageSize) => {
            lagging.wechat.setRecordKnobs({ visibilityLagSeconds: lag });
            const reader = provider(pageSize, lagging);
            const account = lagging.wechat.accounts[0]!.appId;
            const from = new Date(lagging.clock.now() - 3 * 3600_000);
            const delivered: KefuRecord[] = [];
            let checkpoint: Checkpoint | undefined;
            let to = from;
            for (const { advance, behind } of syncs) {
              lagging.clock.advance(advance * 1000);
              await customerWrites(`after ${advance}s`, lagging);
              // Like `kefu sync` run by cron: `to` at (or just behind) the clock.
              to = new Date(Math.max(to.getTime(), lagging.clock.now() - behind * 1000));
              const read = await readAll(reader.records({ account, from, to, resumeFrom: checkpoint }));
              delivered.push(...read.records);
              checkpoint = read.checkpoints.at(-1) ?? checkpoint;
            }
            // Once everything before the last `to` is listed, one more sync to that `to` completes it.
            lagging.clock.advance((lag + 1) * 1000);
            const last = await readAll(reader.records({ account, from, to, resumeFrom: checkpoint }));
            delivered.push(...last.records);
            expectGroundTruth(delivered, from, to, lagging);
          },
        ),
        { numRuns: 6, seed: 1703 },
      );
    });

    it('given 5xx, resets, truncated and malformed bodies, busy answers and revoked tokens, when read, then retries keep it exact', async () => {
      emulator.setFaults({
        // About one answer in five fails: enough to hit every page, rare enough for 8 attempts.
        serverErrorRate: 0.06,
        connectionResetRate: 0.03,
        truncatedBodyRate: 0.03,
        malformedBodyRate: 0.03,
        wechatBusyRate: 0.05,
        revokeTokenEveryCalls: 17,
        seed: 17,
      });
      try {
        const from = new Date(historyStart());
        const to = new Date(from.getTime() + 2 * 86_400_000 + 5 * 3600_000);
        const { records } = await readAll(provider(11).records({ account: appId, from, to }));
        expectGroundTruth(records, from, to);
        expect(emulator.requests.count({ path: '/customservice/msgrecord/getmsglist', status: 502 })).toBeGreaterThan(
          0,
        );
      } finally {
        emulator.setFaults({});
      }
    });
  },
);

/** A customer with a session writes now (a 2003 record at the clock's second). */
async function customerWrites(text: string, on: RunningEmulator = emulator): Promise<void> {
  const account = on.wechat.accounts[0]!.appId;
  const list = (await (await fetch(`${on.url}/__emulator/wechat/customers?appid=${account}`)).json()) as {
    customers: Array<{ openid: string }>;
  };
  const answer = await fetch(`${on.url}/__emulator/wechat/customer-message`, {
    method: 'POST',
    body: JSON.stringify({ appid: account, openid: list.customers[0]!.openid, text }),
  });
  expect(answer.status).toBe(200);
}

/** Reads `[from, to)` and collects the warnings the stream reports. */
async function readWithWarnings(reader: WechatMpProvider, from: Date, to: Date) {
  const warnings: ProviderWarning[] = [];
  const stream = reader.records({ account: appId, from, to }).withOptions({ onWarning: (w) => warnings.push(w) });
  const { records } = await readAll(stream);
  return { records, warnings };
}

// API-NOTES: record bodies may carry raw control characters inside strings (invalid JSON, as the
// real platform sends them): both readings of the emulator (escaped, raw) against the ground
// truth. The docs do not say how bodies are laid out: compact and indented (whitespace between
// tokens) alike. Pages above 32 KiB are parsed piecewise (parseJsonBytes), which cuts compact
// bodies at `},{` and scans the others, and a body with a raw control character is parsed whole.
describe.each([
  { rawControlCharacters: false, indentedRecordBodies: false },
  { rawControlCharacters: true, indentedRecordBodies: false },
  { rawControlCharacters: false, indentedRecordBodies: true },
  { rawControlCharacters: true, indentedRecordBodies: true },
])('the getmsglist stream when bodies are written %o', (bodies) => {
  let platform: RunningEmulator;
  beforeAll(async () => {
    platform = await startEmulator({
      seed: 'msglist-control-characters',
      now: NOW,
      freezeClock: true,
      wechat: { accounts: 1, customers: 30, days: 8, recordsPerDay: 400, ...bodies },
    });
  });
  afterAll(async () => {
    await platform.stop();
  });

  it('given any range and any page size, when read, then it delivers exactly the ground truth, control characters included (property)', async () => {
    const truth = platform.wechat.expectedRecords({
      appId: platform.wechat.accounts[0]!.appId,
      from: new Date(historyStart()),
      to: new Date(historyStart() + 6 * 86_400_000),
    });
    // The seeded texts hold control characters, so the raw reading really sends invalid JSON.
    expect(truth.some((raw) => [...raw.text].some((char) => char.charCodeAt(0) < 0x20))).toBe(true);
    await expectAnyRangeReadsGroundTruth(platform, { numRuns: 6, seed: 1702 });
  });

  it('given whole days read with the default page size (bodies above 32 KiB, parsed piecewise), then it delivers exactly the ground truth', async () => {
    const from = new Date(historyStart());
    const to = new Date(from.getTime() + 3 * 86_400_000);
    const day = platform.wechat.expectedRecords({
      appId: platform.wechat.accounts[0]!.appId,
      from,
      to: new Date(from.getTime() + 86_400_000),
    });
    expect(Buffer.byteLength(JSON.stringify({ recordlist: day }))).toBeGreaterThan(32 * 1024);
    const reader = new WechatMpProvider(
      { accounts: platform.wechat.accounts, baseUrl: platform.wechat.baseUrl, retry: FAST_RETRY },
      {},
    );
    providers.push(reader);
    const { records } = await readAll(reader.records({ account: platform.wechat.accounts[0]!.appId, from, to }));
    expectGroundTruth(records, from, to, platform);
  });
});

describe('the getmsglist stream meets impossible answers', () => {
  afterAll(() => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
  });

  it.each([
    ['stall', 'WECHAT_MSGID_NOT_ADVANCING'],
    ['missing', 'WECHAT_MSGID_MISSING'],
    ['backwards', 'WECHAT_MSGID_BACKWARDS'],
  ] as const)(
    'given a cursor that %s on full pages, then the stream fails with %s instead of finishing short',
    async (fault, code) => {
      emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, cursorFault: fault });
      const from = new Date(historyStart());
      const to = new Date(from.getTime() + 86_400_000);
      const error = await readAll(provider(20).records({ account: appId, from, to })).catch((e: unknown) => e);
      expect(isKefuError(error) && error.code).toBe(code);
      expect(isKefuError(error) && error.retryable).toBe(false);
      expect(String((error as Error).message)).toMatch(/Nothing after the last checkpoint was skipped/);
    },
  );

  it('given page size 1 under the inclusive bound answering the last id, then kefu asks for 2 and still delivers everything', async () => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
    const from = new Date(historyStart());
    const to = new Date(from.getTime() + 6 * 3600_000);
    const before = emulator.requests.count({ path: '/customservice/msgrecord/getmsglist' });
    const { records } = await readAll(provider(1).records({ account: appId, from, to }));
    expectGroundTruth(records, from, to);
    expect(emulator.requests.count({ path: '/customservice/msgrecord/getmsglist' }) - before).toBeGreaterThan(
      records.length / 2,
    );
  });

  it('given `number` echoing the request, then each short page is a warning and nothing is lost', async () => {
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, number: 'requested' });
    const from = new Date(historyStart());
    const to = new Date(from.getTime() + 2 * 86_400_000);
    const { records, warnings } = await readWithWarnings(provider(500), from, to);
    expectGroundTruth(records, from, to);
    expect(warnings.map((w) => w.code)).toEqual(['WECHAT_MSGLIST_NUMBER_MISMATCH', 'WECHAT_MSGLIST_NUMBER_MISMATCH']);
    expect(warnings[0]?.details).toMatchObject({ number: 500, appId });
  });
});

describe('the getmsglist stream resumed after a cut on a platform that reordered', () => {
  afterAll(() => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
  });

  it('given the page read again no longer starts with the records of the cut page, then the window skips by time: nothing twice, nothing lost, a warning', async () => {
    // The first sync pages by position; the platform then pages by global id, so the msgid
    // of the cut page's request now means another place in the window. (Both readings are
    // exclusive, as the first sync learned: the platform changed its ids, not its bound.)
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, msgidModel: 'position' });
    const from = new Date(historyStart());
    const cut = new Date(from.getTime() + 13 * 3600_000);
    const to = new Date(from.getTime() + 86_400_000);
    const first = await readAll(provider(7).records({ account: appId, from, to: cut }));
    emulator.wechat.setRecordKnobs({ ...DEFAULT_RECORD_KNOBS, msgidModel: 'global-id', continuation: 'exclusive' });
    const warnings: ProviderWarning[] = [];
    const stream = provider(7)
      .records({ account: appId, from, to, resumeFrom: first.checkpoints.at(-1) })
      .withOptions({ onWarning: (warning) => warnings.push(warning) });
    const second = await readAll(stream);
    expectGroundTruth([...first.records, ...second.records], from, to);
    expect(warnings.map((w) => w.code)).toEqual(['WECHAT_MSGLIST_RESUME_SHIFTED']);
  });
});

describe('the getmsglist stream and the repeated boundary record', () => {
  afterAll(() => {
    emulator.wechat.setRecordKnobs(DEFAULT_RECORD_KNOBS);
  });

  /** Three customer messages in one second of the frozen clock: `texts`, then the window holding just them. */
  async function oneSecondOf(texts: string[]) {
    emulator.clock.advance(3_600_000);
    for (const text of texts) await customerWrites(text);
    const second = Math.floor(emulator.clock.now() / 1000);
    return { from: new Date(second * 1000), to: new Date((second + 1) * 1000) };
  }

  it('given an inclusive platform and two identical messages in one second across a page boundary, then both are delivered', async () => {
    emulator.wechat.setRecordKnobs({ continuation: 'inclusive', responseMsgid: 'last' });
    const { from, to } = await oneSecondOf(['first', 'same', 'same']);
    const { records } = await readAll(provider(2).records({ account: appId, from, to }));
    expect(records.map((r) => r.text)).toEqual(['first', 'same', 'same']);
    expectGroundTruth(records, from, to);
  });

  it('given an exclusive platform that already showed it does not repeat the boundary, then identical messages across a later boundary are both delivered', async () => {
    emulator.wechat.setRecordKnobs({ continuation: 'exclusive', responseMsgid: 'last' });
    // Pages of 2: [one, two] [three, same] [same]: the second boundary (two | three) shows the
    // platform does not repeat records, so the third (same | same) is two messages.
    const { from, to } = await oneSecondOf(['one', 'two', 'three', 'same', 'same']);
    const { records } = await readAll(provider(2).records({ account: appId, from, to }));
    expect(records.map((r) => r.text)).toEqual(['one', 'two', 'three', 'same', 'same']);
  });

  it('given an exclusive platform whose very first boundary falls between two identical messages, then the second is lost (the documented residual risk)', async () => {
    emulator.wechat.setRecordKnobs({ continuation: 'exclusive', responseMsgid: 'last' });
    const { from, to } = await oneSecondOf(['first', 'same', 'same']);
    const { records } = await readAll(provider(2).records({ account: appId, from, to }));
    // Page 1 ends with "same", page 2 starts with the other "same": indistinguishable from an
    // inclusive platform repeating it, before the stream has seen this platform is exclusive.
    expect(records.map((r) => r.text)).toEqual(['first', 'same']);
  });
});

describe('getmsglist checkpoints of kefu 0.1 before the msgid fix', () => {
  const from = () => new Date(historyStart());
  const checkpointAt = (position: Record<string, unknown>): Checkpoint => ({
    provider: 'wechat-mp',
    account: appId,
    position: position as Checkpoint['position'],
    skip: 0,
  });

  it('given one at a window start (cursor 1), then it resumes from there', async () => {
    const start = from();
    const to = new Date(start.getTime() + 86_400_000);
    const windowStart = start.getTime() / 1000 + 86_400;
    const resumed = await readAll(
      provider(50).records({
        account: appId,
        from: start,
        to: new Date(to.getTime() + 86_400_000),
        resumeFrom: checkpointAt({ api: 'msglist', windowStart, cursor: 1 }),
      }),
    );
    expectGroundTruth(resumed.records, to, new Date(to.getTime() + 86_400_000));
  });

  it('given one inside a window (a record count), then it fails with KEFU_CHECKPOINT_INVALID saying what to do', async () => {
    const start = from();
    const stream = provider(50).records({
      account: appId,
      from: start,
      to: new Date(start.getTime() + 86_400_000),
      resumeFrom: checkpointAt({ api: 'msglist', windowStart: start.getTime() / 1000, cursor: 51 }),
    });
    const error = await readAll(stream).catch((e: unknown) => e);
    expect(isKefuError(error) && error.code).toBe('KEFU_CHECKPOINT_INVALID');
    expect(String((error as Error).message)).toMatch(/Delete this target's checkpoint and sync again from 20/);
  });
});
