import { type Checkpoint, type KefuRecord, MemoryCheckpointStore, runSync, type SyncTargetSummary } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { recordingSink } from '@kefu/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WecomKfProvider } from '../src/index.js';

// The undocumented point: what kf/sync_msg does with a cursor older than the 3 days it keeps.
// The emulator's `expiredCursor` reading answers errcode 50100 (`reject`) or reads on from the
// oldest message kept (`oldest`); its clock ages messages out. Under either reading the sync
// must neither hide a gap nor deliver anything twice, judged against the emulator's own items.

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T1 = Date.UTC(2026, 11, 1, 4, 0, 0);
const FROM = new Date(T1 - 3 * DAY);
const JOB = 'sync';

type Reading = 'reject' | 'oldest';

interface Fixture {
  reading: Reading;
  emulator: RunningEmulator;
  provider: WecomKfProvider;
  openKfId: string;
  sink: ReturnType<typeof recordingSink>;
  checkpoints: MemoryCheckpointStore;
  key: string;
  /** Every item the account ever had (the emulator's list before anything aged out, plus writes). */
  everything: Set<string>;
  sync(to: number): Promise<SyncTargetSummary>;
  write(text: string): void;
  close(): Promise<void>;
}

let open: Fixture | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** Other readings of the same run: page order (A9) and cursor scope (A1, with a second account's items). */
interface OtherReadings {
  order?: 'send-time' | 'reversed-pages';
  cursorScope?: 'per-account' | 'per-app';
}

async function fixture(
  reading: Reading,
  messages: number,
  pageSize: number,
  other: OtherReadings = {},
): Promise<Fixture> {
  const emulator = await startEmulator({
    seed: `expired-${reading}`,
    now: T1,
    freezeClock: true,
    wecom: { accounts: 2, messagesPerAccount: messages, hours: 48, readings: { expiredCursor: reading, ...other } },
  });
  const { wecom } = emulator;
  const openKfId = wecom.accounts[0] as string;
  const provider = new WecomKfProvider(
    {
      corpId: wecom.corpId,
      secret: wecom.secret,
      accounts: [{ openKfId }],
      baseUrl: wecom.baseUrl,
      pageSize,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    },
    { now: () => emulator.clock.now() },
  );
  const sink = recordingSink();
  const checkpoints = new MemoryCheckpointStore();
  const everything = new Set(wecom.expectedItems(openKfId).map((item) => item.msgid));
  return {
    reading,
    emulator,
    provider,
    openKfId,
    sink,
    checkpoints,
    key: `${JOB}/${provider.id}/${openKfId}`,
    everything,
    async sync(to) {
      const summary = await runSync({
        job: JOB,
        targets: [{ provider, account: openKfId }],
        sinks: [sink],
        checkpoints,
        from: FROM,
        to: new Date(to),
        batchSize: 3,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, jitter: 1 },
      }).done;
      return summary.targets[0] as SyncTargetSummary;
    },
    write(text) {
      everything.add(wecom.customerMessage(openKfId, text).item.msgid);
    },
    async close() {
      await provider.close();
      await emulator.stop();
    },
  };
}

const ids = (records: readonly KefuRecord[]) => records.map((record) => record.id);
const codes = (summary: SyncTargetSummary) => summary.warnings.distinct.map((warning) => warning.code);
const cursorOf = (checkpoint: Checkpoint | undefined) =>
  (checkpoint?.position as { cursor: string | null; readAt: number } | null | undefined) ?? null;

describe('a saved sync_msg cursor older than the 3 days sync_msg keeps', () => {
  it('given the `oldest` reading, when the sync resumes 4 days later, then it warns WECOM_CURSOR_GAP and delivers every message still kept once and nothing again', async () => {
    const f = await fixture('oldest', 12, 5);
    open = f;
    const first = await f.sync(T1 + 1000);
    expect(first.status).toBe('done');
    expect(ids(f.sink.records)).toEqual(f.emulator.wecom.expectedItems(f.openKfId).map((item) => item.msgid));
    f.write('read never: ages out');
    f.emulator.clock.advance(2 * DAY);
    f.write('still kept');
    f.emulator.clock.advance(2 * DAY);
    f.write('new');
    const delivered = ids(f.sink.records);
    const second = await f.sync(f.emulator.clock.now() + 1000);
    expect(second.status).toBe('done');
    expect(codes(second)).toEqual(['WECOM_CURSOR_GAP']);
    expect(second.warnings.distinct[0]?.message).toMatch(/last read 96 h ago, more than the 3 days/);
    const kept = f.emulator.wecom.expectedItems(f.openKfId).map((item) => item.msgid);
    expect(kept).toHaveLength(2);
    expect(ids(f.sink.records)).toEqual([...delivered, ...kept]);
  });

  it('given the `reject` reading, when the sync resumes 4 days later, then it fails with WECOM_CURSOR_EXPIRED saying what to do, the checkpoint untouched and nothing written lost', async () => {
    const f = await fixture('reject', 12, 5);
    open = f;
    expect((await f.sync(T1 + 1000)).status).toBe('done');
    const before = await f.checkpoints.load(f.key);
    const delivered = ids(f.sink.records);
    expect(delivered).toHaveLength(12);
    f.emulator.clock.advance(4 * DAY);
    f.write('new');
    const second = await f.sync(f.emulator.clock.now() + 1000);
    expect(second.status).toBe('failed');
    expect(second.error).toMatchObject({
      code: 'WECOM_CURSOR_EXPIRED',
      message: expect.stringMatching(/errcode 50100.*last read 96 h ago.*delete this target's checkpoint/),
      fix: expect.stringContaining('Delete the checkpoint'),
      details: { openKfId: f.openKfId, errcode: 50100 },
    });
    expect(await f.checkpoints.load(f.key)).toEqual(before);
    expect(ids(f.sink.records)).toEqual(delivered);
    // The fix said: delete the checkpoint, sync again — the sync restarts at the oldest message kept.
    await f.checkpoints.delete(f.key);
    const restarted = await f.sync(f.emulator.clock.now() + 1000);
    expect(restarted.status).toBe('done');
    expect(ids(f.sink.records).slice(delivered.length)).toEqual(
      f.emulator.wecom.expectedItems(f.openKfId).map((item) => item.msgid),
    );
  });

  it('given a sync stopped at `to` before messages that then age out under a young cursor, then the gap is reported too', async () => {
    const f = await fixture('oldest', 10, 20);
    open = f;
    // Seeded over the 48 h before T1 (one every 4.8 h): stop before the 6th, sent 21.6 h before T1.
    const first = await f.sync(T1 - 22 * HOUR);
    expect(ids(f.sink.records)).toHaveLength(5);
    expect(cursorOf(first.checkpoint)).toMatchObject({ cursor: null });
    f.emulator.clock.advance(2.2 * DAY);
    const second = await f.sync(f.emulator.clock.now() + 1000);
    expect(codes(second)).toEqual(['WECOM_CURSOR_GAP']);
    expect(ids(f.sink.records).slice(5)).toEqual(f.emulator.wecom.expectedItems(f.openKfId).map((item) => item.msgid));
  });
});

describe('re-reading the page a sync stopped in', () => {
  it('given pages in reverse order (A9), when a message joins the page the sync stopped in, then the next sync delivers it, not skips it', async () => {
    const f = await fixture('oldest', 5, 2, { order: 'reversed-pages' });
    open = f;
    // Seeded 9.6 h apart over the 48 h before T1: the last page holds only the 5th, sent 4.8 h before T1.
    await f.sync(T1 - 5 * HOUR);
    expect(ids(f.sink.records)).toHaveLength(4);
    f.write('joins the last page');
    const second = await f.sync(T1 + 1000);
    expect(second.status).toBe('done');
    expect([...ids(f.sink.records)].sort()).toEqual([...f.everything].sort());
  });

  it('given pages in reverse order with every account’s items (A9, A1), when the page the sync stopped in lost items to age and gained a new one, then the new one is delivered', async () => {
    // Found by the property below: skipping by count or up to the stopped-at msgid lost it.
    const f = await fixture('oldest', 2, 4, { order: 'reversed-pages', cursorScope: 'per-app' });
    open = f;
    await checkOneCase(f, { stopHoursBefore: 12, writes: [0], ageMs: 36 * HOUR + 1 });
  });
});

describe('property: any saved cursor, any age, either reading, either page order (A9) and cursor scope (A1)', () => {
  it('never delivers a message twice, delivers every message still kept, and never loses one without WECOM_CURSOR_GAP; a refused cursor leaves checkpoint and sink as they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          reading: fc.constantFrom<Reading>('reject', 'oldest'),
          order: fc.constantFrom<'send-time' | 'reversed-pages'>('send-time', 'reversed-pages'),
          cursorScope: fc.constantFrom<'per-account' | 'per-app'>('per-account', 'per-app'),
          messages: fc.integer({ min: 0, max: 10 }),
          pageSize: fc.integer({ min: 1, max: 6 }),
          // Where the first sync stops (hours before T1; none: it reads everything).
          stopHoursBefore: fc.option(fc.integer({ min: 0, max: 48 }), { nil: undefined }),
          // When messages are written after the first sync (hours after it).
          writes: fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 4 }),
          ageMs: fc.oneof(
            fc.integer({ min: 0, max: 5 * DAY }),
            fc.integer({ min: 3 * DAY - 2 * HOUR, max: 3 * DAY + 2 * HOUR }),
          ),
        }),
        async ({ reading, order, cursorScope, messages, pageSize, stopHoursBefore, writes, ageMs }) => {
          const f = await fixture(reading, messages, pageSize, { order, cursorScope });
          try {
            await checkOneCase(f, { stopHoursBefore, writes, ageMs });
          } finally {
            await f.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

async function checkOneCase(
  f: Fixture,
  input: { stopHoursBefore: number | undefined; writes: number[]; ageMs: number },
): Promise<void> {
  const to1 = input.stopHoursBefore === undefined ? T1 + 1000 : T1 - input.stopHoursBefore * HOUR;
  const first = await f.sync(to1);
  expect(first.status).toBe('done');
  const delivered = ids(f.sink.records);
  expect(new Set(delivered).size).toBe(delivered.length);
  for (const at of [...input.writes].sort((a, b) => a - b).filter((hours) => hours * HOUR <= input.ageMs)) {
    f.emulator.clock.advance(T1 + at * HOUR - f.emulator.clock.now());
    f.write(`at +${at} h`);
  }
  f.emulator.clock.advance(T1 + input.ageMs - f.emulator.clock.now());
  const before = await f.checkpoints.load(f.key);
  const saved = cursorOf(before);
  const expired = saved?.cursor != null && f.emulator.clock.now() - saved.readAt > 3 * DAY;
  const second = await f.sync(f.emulator.clock.now() + 1000);
  const all = ids(f.sink.records);
  if (expired && f.reading === 'reject') {
    expect(second.status).toBe('failed');
    expect(second.error).toMatchObject({ code: 'WECOM_CURSOR_EXPIRED' });
    expect(await f.checkpoints.load(f.key)).toEqual(before);
    expect(all).toEqual(delivered);
    return;
  }
  expect(second.status).toBe('done');
  expect(all.slice(0, delivered.length)).toEqual(delivered);
  expect(new Set(all).size, 'nothing twice').toBe(all.length);
  const kept = f.emulator.wecom.expectedItems(f.openKfId).map((item) => item.msgid);
  expect(
    kept.filter((id) => !all.includes(id)),
    'every message still kept is delivered',
  ).toEqual([]);
  const lost = [...f.everything].filter((id) => !all.includes(id));
  if (lost.length > 0 || expired) expect(codes(second)).toContain('WECOM_CURSOR_GAP');
}
