import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import { readMsgListWindow, tokenFor } from './wechat-support.js';

// About 1 M records: 30 days × 33 334 records per day on average. Nothing is
// materialized; memory and speed are measured by scripts/measure-getmsglist.ts.
const NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
const DAY_START = Date.UTC(2026, 0, 9, 16, 0, 0) / 1000; // 2026-01-10 in Asia/Shanghai
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 'large', now: NOW, wechat: { accounts: 1, recordsPerDay: 33_334, days: 30 } });
});
afterAll(async () => {
  await emulator.stop();
});

describe('a 1 M-record WeChat account', () => {
  it('given one full day, when read through getmsglist pages of 10 000, then every record comes once, in order', async () => {
    const token = await tokenFor(emulator);
    const { records, pages } = await readMsgListWindow(emulator, token, {
      starttime: DAY_START,
      endtime: DAY_START + 86_400,
      number: 10_000,
    });
    for (const page of pages) expect(page.recordlist.length).toBeLessThanOrEqual(10_000);
    expect(pages.length).toBeGreaterThan(1);
    const expected = emulator.wechat.expectedRecords({
      appId: emulator.wechat.accounts[0]!.appId,
      from: new Date(DAY_START * 1000),
      to: new Date((DAY_START + 86_400) * 1000),
    });
    expect(records.length).toBe(expected.length);
    expect(records).toEqual(expected);
    for (let i = 1; i < records.length; i++) expect(records[i]!.time).toBeGreaterThanOrEqual(records[i - 1]!.time);
  });
});
