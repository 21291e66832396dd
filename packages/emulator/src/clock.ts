import type { EmulatorClock } from './platform.js';

/** The emulator clock: starts at `start`, runs in real time, and can be pushed forward. */
export interface AdjustableClock extends EmulatorClock {
  /** Moves the clock forward by `ms` (token expiry, 48 h windows, quotas) without waiting. */
  advance(ms: number): void;
}

/** Creates a clock starting at `start` ms since epoch (default: the real time). */
export function createClock(start: number = Date.now()): AdjustableClock {
  const realStart = Date.now();
  let advanced = 0;
  return {
    now: () => start + (Date.now() - realStart) + advanced,
    advance(ms: number) {
      // A clock that goes backwards would break token and window invariants.
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs a finite ms >= 0, got ${ms}`);
      advanced += ms;
    },
  };
}
