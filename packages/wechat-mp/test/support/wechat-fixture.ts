import type { KefuRecord } from '@kefu/core';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '@kefu/emulator';
import type { WechatMpConfigInput } from '../../src/wechat-mp-config.js';
import { WechatMpProvider, type WechatMpProviderOptions } from '../../src/wechat-mp-provider.js';

/** Fast retries for tests: the emulator's faults are retried without real back-off waits. */
export const FAST_RETRY = { maxAttempts: 8, baseDelayMs: 1, maxDelayMs: 5 };

/** A Beijing midnight about `days` days before the emulator clock, so windows are whole days. */
export function beijingMidnightDaysAgo(now: number, days: number): Date {
  const offset = 8 * 3600_000;
  const today = Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
  return new Date(today - days * 86_400_000);
}

/** Starts the emulator (small data) and builds providers against it. */
export async function startWechatFixture(options: EmulatorOptions = {}) {
  const emulator: RunningEmulator = await startEmulator({
    seed: 'wechat-mp-tests',
    ...options,
    wechat: { accounts: 2, agentsPerAccount: 4, customers: 40, days: 31, recordsPerDay: 50, ...(options.wechat ?? {}) },
  });
  const providers: WechatMpProvider[] = [];
  const account = emulator.wechat.accounts[0] as { appId: string; secret: string; name: string };
  const makeProvider = (config: Partial<WechatMpConfigInput> = {}, providerOptions: WechatMpProviderOptions = {}) => {
    const provider = new WechatMpProvider(
      {
        accounts: emulator.wechat.accounts.map(({ appId, secret, name }) => ({ appId, secret, name })),
        baseUrl: emulator.wechat.baseUrl,
        retry: FAST_RETRY,
        ...config,
      },
      providerOptions,
    );
    providers.push(provider);
    return provider;
  };
  return {
    emulator,
    account,
    appId: account.appId,
    makeProvider,
    async close() {
      await Promise.all(providers.map((provider) => provider.close()));
      await emulator.stop();
    },
  };
}

/** The fields the platform gives, for comparing normalized records with the ground truth. */
export function rawKey(
  record: KefuRecord | { openid: string; opercode: number; time: number; text: string; worker: string },
) {
  const raw = ('raw' in record ? record.raw : record) as {
    openid: string;
    opercode: number;
    time: number;
    text: string;
    worker: string;
  };
  return JSON.stringify([raw.openid, raw.opercode, raw.time, raw.worker, raw.text]);
}

/** Reads a whole stream with the checkpoint after every record. */
export async function readAll(stream: ReturnType<WechatMpProvider['records']>) {
  const records: KefuRecord[] = [];
  const checkpoints = [];
  for await (const page of stream.pages()) {
    for (let index = 0; index < page.records.length; index++) {
      records.push(page.records[index] as KefuRecord);
      checkpoints.push(page.checkpointAfter(index));
    }
  }
  return { records, checkpoints };
}
