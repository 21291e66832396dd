/**
 * Wiring of the Youmi platform (written in parallel in src/youmi/). Until
 * src/youmi/index.ts exports `createYoumiPlatform`, the emulator serves WeChat only.
 */
import type { FaultOptions } from './faults.js';
import type { EmulatedPlatform, EmulatorClock } from './platform.js';
import type { RequestLog } from './request-log.js';

/** Youmi platform options (defined by the Youmi platform). */
export type YoumiEmulatorOptions = Record<string, unknown>;

/** What `RunningEmulator.youmi` exposes (defined by the Youmi platform). */
export type YoumiDescription = { baseUrl: string } & Record<string, unknown>;

/** Creates the Youmi platform when it is available. */
export async function createYoumiPlatformIfAvailable(_options: {
  seed: string;
  youmi: YoumiEmulatorOptions;
  clock: EmulatorClock & { advance(ms: number): void };
  faults: () => FaultOptions;
  log: RequestLog;
}): Promise<{ platform: EmulatedPlatform; describe(baseUrl: string): YoumiDescription } | undefined> {
  return undefined;
}
