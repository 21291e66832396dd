import type { EmulatorClock } from './platform.js';

/** The emulator clock: starts at `start`, runs in real time unless frozen, and can be pushed forward. */
export interface AdjustableClock extends EmulatorClock {
  /** Moves the clock forward by `ms` (token expiry, 48 h windows, quotas) without waiting. */
  advance(ms: number): void;
  /** True when the clock moves only by `advance`. */
  readonly frozen: boolean;
}

/**
 * Creates a clock starting at `start` ms since epoch (default: the real time). A `frozen` clock
 * moves only when advanced: every run-time record then has a time the test chose.
 */
export function createClock(start: number = Date.now(), frozen = false): AdjustableClock {
  const realStart = Date.now();
  let advanced = 0;
  return {
    frozen,
    now: () => start + (frozen ? 0 : Date.now() - realStart) + advanced,
    advance(ms: number) {
      // A clock that goes backwards would break token and window invariants.
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs a finite ms >= 0, got ${ms}`);
      advanced += ms;
    },
  };
}
