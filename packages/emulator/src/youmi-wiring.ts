/**
 * Wiring of the Youmi platform (src/youmi/, owned by the Youmi platform): the emulator
 * passes it the shared seed, clock, fault knobs and request log.
 */
import type { FaultOptions } from './faults.js';
import type { EmulatorClock } from './platform.js';
import type { RequestLog } from './request-log.js';
import {
  createYoumiPlatform,
  type YoumiEmulatorDescription,
  type YoumiEmulatorOptions,
  type YoumiPlatform,
} from './youmi/index.js';

/** Youmi platform options (see the Youmi section of the README). */
export type { YoumiEmulatorOptions };

/** What `RunningEmulator.youmi` exposes. */
export type YoumiDescription = YoumiEmulatorDescription;

/** Creates the Youmi platform. */
export function createYoumiPlatformForEmulator(options: {
  seed: string;
  youmi: YoumiEmulatorOptions;
  clock: EmulatorClock;
  faults: () => FaultOptions;
  log: RequestLog;
}): YoumiPlatform {
  return createYoumiPlatform(options);
}
