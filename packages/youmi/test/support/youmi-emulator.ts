import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import type { YoumiConfigInput } from '../../src/youmi-config.js';

/** What the emulator's Youmi side exposes (credentials, ground truth, event helpers). */
export type EmulatedYoumi = RunningEmulator['youmi'];

/** A running emulator serving Youmi, and a provider config pointing at it. */
export interface YoumiEmulator {
  emulator: RunningEmulator;
  youmi: EmulatedYoumi;
  /** The emulator clock start: the end of its generated history. */
  start: number;
  config(overrides?: Partial<YoumiConfigInput>): YoumiConfigInput;
}

/** Fixed clock start, so every run sees the same data. */
export const EMULATOR_START = Date.UTC(2026, 10, 20, 4, 0, 0);

/** Starts the emulator with a small Youmi data set (one account by default). */
export async function startYoumiEmulator(
  youmi: Record<string, unknown> = {},
  faults: Record<string, unknown> = {},
): Promise<YoumiEmulator> {
  const emulator = await startEmulator({
    seed: 'youmi-provider',
    now: EMULATOR_START,
    youmi: { wechatIds: [10001], fansPerAccount: 12, chatsPerFan: 12, days: 3, ...youmi },
    faults,
  });
  const side = emulator.youmi;
  return {
    emulator,
    youmi: side,
    start: EMULATOR_START,
    config: (overrides = {}) => ({
      baseUrl: side.baseUrl,
      tokenUrl: side.tokenUrl,
      clientId: side.clientId,
      clientSecret: side.clientSecret,
      wechatIds: side.wechatIds,
      pageSize: 5,
      fanPageSize: 5,
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 10, jitter: 0 },
      ...overrides,
    }),
  };
}
