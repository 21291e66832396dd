import type { Checkpoint, JsonValue, KefuRecord, ProviderWarning, RecordQueryInput } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackTokens, WecomKfProvider } from '../src/index.js';
import { SyncMsgPageSource } from '../src/wire.js';
import {
  startWecomFakePlatform,
  textItems,
  type WecomFakePlatform,
  type WecomReadings,
} from './support/wecom-fake-platform.js';

const CORP = 'ww0123456789abcdef';
const SECRET = 'kf-app-secret-xyz';
const NOW = Date.UTC(2026, 11, 6, 4, 0, 0);
const START = NOW / 1000 - 86_400; // a day ago, within the 3-day retention

let platform: WecomFakePlatform | undefined;
let provider: WecomKfProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await platform?.stop();
  provider = undefined;
  platform = undefined;
});

async function setup(
  readings: Partial<WecomReadings>,
  items = [...textItems('wkA', 25, START), ...textItems('wkB', 7, START + 3)],
) {
  platform = await startWecomFakePlatform({ corpId: CORP, secret: SECRET, items, readings, now: () => NOW });
  provider = new WecomKfProvider(
    {
      corpId: CORP,
      secret: SECRET,
      accounts: [{ openKfId: 'wkA' }, { openKfId: 'wkB' }],
      baseUrl: platform.url,
      pageSize: 4,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    },
    { now: () => NOW },
  );
  return { platform, provider };
}

async function readAll(query: RecordQueryInput) {
  const records: KefuRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  for await (const page of (provider as WecomKfProvider).records(query).pages()) {
    page.records.forEach((record, index) => {
      records.push(record);
      checkpoints.push(page.checkpointAfter(index));
    });
  }
  return { records, checkpoints };
}

const ALL_READINGS: Array<[string, Partial<WecomReadings>]> = [
  ['the doc reading', {}],
  ['A1 cursor and results per app (open_kfid ignored)', { cursorScope: 'per-app' }],
  ['A9 pages in reverse order', { order: 'reversed-pages' }],
  ['empty pages with has_more=1', { emptyPages: true }],
  ['fewer items than the limit', { fewerThanLimit: true }],
  ['A8 a new token on every gettoken', { gettoken: 'new-each-call' }],
];

describe('kf/sync_msg records', () => {
  it.each(ALL_READINGS)(
    'given %s, when one account is read, then every one of its messages comes once',
    async (_name, readings) => {
      await setup(readings);
      const { records } = await readAll({ account: 'wkA', from: new Date((START - 10) * 1000), to: new Date(NOW) });
      expect(records.map((record) => record.id).sort()).toEqual(
        textItems('wkA', 25, START)
          .map((item) => item.msgid)
          .sort(),
      );
      expect(new Set(records.map((record) => record.account))).toEqual(new Set(['wkA']));
    },
  );

  it.each(ALL_READINGS)(
    'given %s, when a sync resumes from any checkpoint, then it gets exactly the rest',
    async (_name, readings) => {
      await setup(readings);
      const query = { account: 'wkA', from: new Date((START - 10) * 1000), to: new Date(NOW) };
      const { records, checkpoints } = await readAll(query);
      for (const index of [0, 3, 4, 11, records.length - 1]) {
        const rest = await readAll({ ...query, resumeFrom: checkpoints[index] });
        expect(rest.records.map((record) => record.id)).toEqual(records.slice(index + 1).map((record) => record.id));
      }
    },
  );

  it('given a page that is empty with has_more=1, when read, then the walk goes on (the list being empty is no end)', async () => {
    const { platform } = await setup({ emptyPages: true });
    const { records } = await readAll({ account: 'wkB', from: new Date(0), to: new Date(NOW) });
    expect(records).toHaveLength(7);
    const pages = platform.calls.filter((call) => call.path === 'kf/sync_msg');
    expect(pages.length).toBeGreaterThan(2);
  });

  it('sends open_kfid, limit and voice_format on every page and the cursor of the previous page', async () => {
    const { platform } = await setup({});
    await readAll({ account: 'wkA', from: new Date(0), to: new Date(NOW) });
    const bodies = platform.calls.filter((call) => call.path === 'kf/sync_msg').map((call) => call.body);
    expect(bodies[0]).toEqual({ open_kfid: 'wkA', limit: 4, voice_format: 0 });
    expect(bodies[1]).toMatchObject({ open_kfid: 'wkA', limit: 4, voice_format: 0, cursor: expect.any(String) });
  });

  it('given messages after `to`, when synced to `to`, then it stops before them and the next sync from the checkpoint delivers them', async () => {
    await setup({});
    const to = new Date((START + 10) * 1000);
    const first = await readAll({ account: 'wkA', from: new Date(0), to });
    expect(first.records.map((r) => r.id)).toEqual(textItems('wkA', 10, START).map((item) => item.msgid));
    const next = await readAll({ account: 'wkA', from: to, to: new Date(NOW), resumeFrom: first.checkpoints.at(-1) });
    expect(next.records.map((r) => r.id)).toEqual(
      textItems('wkA', 25, START)
        .slice(10)
        .map((item) => item.msgid),
    );
  });

  it('given the stored cursor, when a sync resumes after the last page, then it reads nothing twice', async () => {
    await setup({});
    const query = { account: 'wkA', from: new Date(0), to: new Date(NOW) };
    const { checkpoints } = await readAll(query);
    const again = await readAll({ ...query, resumeFrom: checkpoints.at(-1) });
    expect(again.records).toEqual([]);
    expect(checkpoints.at(-1)?.position).toMatchObject({ v: 1, cursor: expect.any(String), consumed: 0 });
  });

  it('given a callback token, when pulling, then sync_msg carries it; a refused token (95007) is dropped and the page read without it', async () => {
    const { platform, provider } = await setup({ tokenReuse: 'first-page-only' });
    provider.callbackTokens.remember('wkA', platform.issueCallbackToken('wkA'));
    const { records } = await readAll({ account: 'wkA', from: new Date(0), to: new Date(NOW) });
    expect(records).toHaveLength(25);
    const bodies = platform.calls.filter((call) => call.path === 'kf/sync_msg').map((call) => call.body);
    expect(bodies[0]?.token).toMatch(/^ENCA/);
    expect(bodies.at(-1)?.token).toBeUndefined();
  });

  it('given A2 tokens valid for their own account only, when another account is pulled, then it falls back to no token', async () => {
    const { platform, provider } = await setup({ tokenReuse: 'own-account-only' });
    provider.callbackTokens.remember('wkB', platform.issueCallbackToken('wkA'));
    const { records } = await readAll({ account: 'wkB', from: new Date(0), to: new Date(NOW) });
    expect(records).toHaveLength(7);
  });

  it('given A3 strict token-less limits, when the limit is hit, then the sync fails with WECOM_45009 marked quota-exhausted', async () => {
    await setup({ tokenlessCalls: 2 });
    await expect(readAll({ account: 'wkA', from: new Date(0), to: new Date(NOW) })).rejects.toMatchObject({
      code: 'WECOM_45009',
      details: expect.objectContaining({ quotaExhausted: true }),
    });
  });

  it('given a range older than 3 days, when synced, then a WECOM_RANGE_BEYOND_RETENTION warning says what cannot be read', async () => {
    await setup({});
    const warnings: ProviderWarning[] = [];
    const pages = new SyncMsgPageSource(
      (provider as WecomKfProvider).client(),
      { openKfId: 'wkA', from: NOW - 5 * 86_400_000, to: NOW, limit: 10, voiceFormat: 0 },
      new CallbackTokens(() => NOW),
      () => NOW,
    );
    for await (const _page of pages.pages(null, new AbortController().signal, { onWarning: (w) => warnings.push(w) })) {
      // drain
    }
    expect(warnings.map((w) => w.code)).toEqual(['WECOM_RANGE_BEYOND_RETENTION']);
  });

  it('given a cursor last read more than 3 days ago, when resumed, then WECOM_CURSOR_GAP reports the gap', async () => {
    await setup({});
    const first = new SyncMsgPageSource(
      (provider as WecomKfProvider).client(),
      { openKfId: 'wkA', from: 0, to: NOW, limit: 10, voiceFormat: 0 },
      new CallbackTokens(() => NOW),
      () => NOW - 4 * 86_400_000,
    );
    let position: JsonValue = null;
    for await (const page of first.pages(null, new AbortController().signal)) position = page.position;
    const later = new SyncMsgPageSource(
      (provider as WecomKfProvider).client(),
      { openKfId: 'wkA', from: 0, to: NOW, limit: 10, voiceFormat: 0 },
      new CallbackTokens(() => NOW),
      () => NOW,
    );
    const warnings: ProviderWarning[] = [];
    for await (const _page of later.pages(position, new AbortController().signal, {
      onWarning: (w) => warnings.push(w),
    })) {
      // drain
    }
    expect(warnings.map((w) => w.code)).toEqual(['WECOM_CURSOR_GAP']);
  });

  it('given A1 per-app results, when an account is read, then other accounts are left out and reported once', async () => {
    await setup({ cursorScope: 'per-app' });
    const pages = new SyncMsgPageSource(
      (provider as WecomKfProvider).client(),
      { openKfId: 'wkB', from: NOW - 2 * 86_400_000, to: NOW, limit: 10, voiceFormat: 0 },
      new CallbackTokens(() => NOW),
      () => NOW,
    );
    const warnings: ProviderWarning[] = [];
    let count = 0;
    for await (const page of pages.pages(null, new AbortController().signal, { onWarning: (w) => warnings.push(w) })) {
      count += page.records.length;
    }
    expect(count).toBe(7);
    expect(warnings.map((w) => w.code)).toEqual(['WECOM_FOREIGN_MESSAGES']);
  });

  it('refuses a position that is not a sync_msg cursor with WECOM_CHECKPOINT_INVALID', async () => {
    await setup({});
    const resumeFrom = { provider: 'wecom-kf', account: 'wkA', position: { v: 9 }, skip: 0 };
    await expect(readAll({ account: 'wkA', from: new Date(0), to: new Date(NOW), resumeFrom })).rejects.toMatchObject({
      code: 'WECOM_CHECKPOINT_INVALID',
    });
  });
});
