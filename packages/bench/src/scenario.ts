import type { EmulatorOptions, FaultOptions } from '@kefu/emulator';

/**
 * The benchmark scenario: one WeChat account on the emulator whose getmsglist history
 * over ten full Beijing days holds about the requested number of records.
 */

/** Emulator clock start: noon in Beijing, so "today" is a partial day outside the range. */
export const BENCH_NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
/** Full days of history the benchmarks read. */
export const BENCH_DAYS = 10;
/** getmsglist pages of the fetch ceiling and the bare inserts: the API maximum. */
export const CEILING_PAGE_SIZE = 10_000;
/** getmsglist returns the chat messages only: 6 of every 10 seeded records (see the emulator's wechat-data.ts). */
const MESSAGE_SHARE = 0.6;
const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The range read: the ten full Beijing days before {@link BENCH_NOW}. */
export function benchRange(): { from: Date; to: Date } {
  const to = Math.floor((BENCH_NOW + BEIJING_OFFSET_MS) / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
  return { from: new Date(to - BENCH_DAYS * DAY_MS), to: new Date(to) };
}

/** Emulator options for an account with about `records` getmsglist records in {@link benchRange}. */
export function emulatorOptionsFor(records: number, faults: FaultOptions = {}): EmulatorOptions {
  return {
    seed: 'bench',
    now: BENCH_NOW,
    wechat: {
      accounts: 1,
      customers: 5000,
      // +1: the current (partial) day is part of the emulator's history too.
      days: BENCH_DAYS + 1,
      recordsPerDay: Math.ceil(records / MESSAGE_SHARE / BENCH_DAYS),
    },
    faults,
  };
}

/** The emulator account a bench sync reads. */
export interface BenchAccount {
  url: string;
  appId: string;
  secret: string;
}

/** The config file's provider entry for the bench account (`@kefu/wechat-mp`, id `wx`). */
export function benchProviderEntry(account: BenchAccount): object {
  return {
    use: '@kefu/wechat-mp',
    id: 'wx',
    config: { baseUrl: account.url, accounts: [{ appId: account.appId, secret: account.secret }] },
  };
}

/** A whole `kefu.json` that syncs the bench account into JSONL files (`./out`, checkpoints in `./checkpoints.json`). */
export function jsonlSyncConfig(account: BenchAccount): object {
  return {
    providers: [benchProviderEntry(account)],
    sinks: [{ use: '@kefu/sink-file', id: 'out', config: { dir: './out' } }],
    checkpoints: { use: 'file', path: './checkpoints.json' },
  };
}

/** `kefu` arguments that sync [from, to) with `./kefu.json` and print the JSON summary. */
export function syncArgs(from: Date, to: Date): string[] {
  return ['sync', '-c', 'kefu.json', '--from', from.toISOString(), '--to', to.toISOString(), '--json'];
}
