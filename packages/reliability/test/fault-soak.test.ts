import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KefuLogger, MemoryCheckpointStore, runSync, type SyncProgressEvent } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { FileSink } from '@kefu/sink-file';
import { WechatMpProvider } from '@kefu/wechat-mp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beijingMidnightDaysAgo, expectedWechatIds } from './support/wechat-ground-truth.js';

const NOW = Date.UTC(2026, 2, 10, 4, 0, 0);
/** Exactly the fault mix of issue 9. */
const FAULTS = {
  seed: 9,
  serverErrorRate: 0.05,
  wechatBusyRate: 0.02,
  wechatMinuteQuotaRate: 0.01,
  revokeTokenEveryCalls: 500,
  malformedBodyRate: 0.01,
  connectionResetRate: 0.01,
};

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ seed: 'soak', now: NOW, wechat: { accounts: 1, days: 3, recordsPerDay: 20_000 } });
  dir = mkdtempSync(join(tmpdir(), 'kefu-soak-'));
});
afterAll(async () => {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every JSONL line under `dir`, parsed. */
function readJsonl(root: string): Array<{ id: string }> {
  const lines: Array<{ id: string }> = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.jsonl')) {
        for (const line of readFileSync(child, 'utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      }
    }
  };
  walk(root);
  return lines;
}

describe('fault soak (≈24 k records, pages of 40: ≈600 record calls)', () => {
  it('given 5 % 5xx, 2 % errcode -1, 1 % 45011, token revoked every 500 calls, 1 % malformed bodies and 1 % connection resets, when syncing, then 100 % of the records arrive and retries are reported', async () => {
    const account = emulator.wechat.accounts[0]!;
    const from = beijingMidnightDaysAgo(NOW, 2);
    const to = beijingMidnightDaysAgo(NOW, 0);
    const warnings: string[] = [];
    const logger: KefuLogger = {
      debug: () => {},
      info: () => {},
      warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields ?? {})}`),
      error: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields ?? {})}`),
      child: () => logger,
    };
    const provider = new WechatMpProvider(
      {
        accounts: [account],
        baseUrl: emulator.wechat.baseUrl,
        pageSize: 40,
        // Short back-off keeps the soak bounded; the attempts are the defaults.
        retry: { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 },
      },
      {
        logger,
        // The provider waits for the next minute on 45011: its clock sits 40 ms before a
        // minute boundary so that wait is short (the 45011 answers themselves are real).
        now: () => Math.floor(Date.now() / 60_000) * 60_000 + 59_960,
      },
    );
    emulator.setFaults(FAULTS);
    const sink = new FileSink({ dir, fsync: 'none' });
    const events: SyncProgressEvent[] = [];
    const run = runSync({
      targets: [{ provider, account: account.appId }],
      sinks: [sink],
      checkpoints: new MemoryCheckpointStore(),
      from,
      to,
      batchSize: 500,
      retry: { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 50, jitter: 1 },
      logger,
    });
    run.progress$.subscribe((event) => events.push(event));
    const summary = await run.done;
    emulator.setFaults({});
    await sink.close();
    await provider.close();

    const target = summary.targets[0]!;
    expect(target.status, JSON.stringify(target.error)).toBe('done');
    const expected = expectedWechatIds(emulator, account.appId, from, to);
    const written = readJsonl(dir).map((record) => record.id);
    expect(new Set(written).size).toBe(expected.length);
    expect([...new Set(written)].sort()).toEqual([...expected].sort());
    expect(summary.records).toBe(expected.length);

    // Every fault kind really happened.
    const faults = new Set(
      emulator.requests
        .entries()
        .map((entry) => entry.fault)
        .filter(Boolean),
    );
    console.info(
      `fault soak: ${expected.length} records, faults ${[...faults].join(', ')}, summary retries ${target.retries}, warnings ${warnings.length}`,
    );
    for (const fault of ['server-error', 'busy', 'minute-quota', 'malformed', 'reset', 'revoked'])
      expect(faults).toContain(fault);
    // Retries are reported: every retry the WeChat client makes inside the provider reaches
    // the sync summary and the progress events (and is logged as `wechat call retried`).
    const retried = warnings.filter((line) => line.startsWith('wechat call retried'));
    const pipelineRetries = Math.max(target.retries, ...events.map((event) => event.retries));
    console.info(`fault soak: ${retried.length} provider retries logged, ${pipelineRetries} counted by the sync`);
    expect(retried.length).toBeGreaterThan(0);
    expect(target.retries).toBeGreaterThanOrEqual(retried.length);
    expect(events.filter((event) => event.type === 'retry').length).toBeGreaterThan(0);
    const retriedCodes = new Set(retried.map((line) => /"code":"([A-Z_0-9]+)"/.exec(line)?.[1]));
    expect(retriedCodes.size).toBeGreaterThan(1);
  });
});
