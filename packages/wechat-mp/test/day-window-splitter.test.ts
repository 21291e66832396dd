import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DayWindowSplitter } from '../src/record-pages.js';

const splitter = new DayWindowSplitter();
/** 2026-11-01 00:00 in Beijing (UTC+8). */
const BEIJING_MIDNIGHT = Date.UTC(2026, 9, 31, 16) / 1000;

describe('DayWindowSplitter', () => {
  it('ends windows at Beijing midnight', () => {
    expect(splitter.nextBoundary(BEIJING_MIDNIGHT)).toBe(BEIJING_MIDNIGHT + 86_400);
    expect(splitter.nextBoundary(BEIJING_MIDNIGHT - 1)).toBe(BEIJING_MIDNIGHT);
    expect([...splitter.windows(BEIJING_MIDNIGHT - 3600, BEIJING_MIDNIGHT + 3600)]).toEqual([
      { start: BEIJING_MIDNIGHT - 3600, end: BEIJING_MIDNIGHT },
      { start: BEIJING_MIDNIGHT, end: BEIJING_MIDNIGHT + 3600 },
    ]);
  });

  it('yields nothing for an empty range', () => {
    expect([...splitter.windows(BEIJING_MIDNIGHT, BEIJING_MIDNIGHT)]).toEqual([]);
  });

  it('covers any range contiguously with windows of at most 24 h on one Beijing day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2e9 }), fc.integer({ min: 0, max: 40 * 86_400 }), (from, length) => {
        const windows = [...splitter.windows(from, from + length)];
        let expected = from;
        for (const window of windows) {
          expect(window.start).toBe(expected);
          expect(window.end - window.start).toBeGreaterThan(0);
          expect(window.end - window.start).toBeLessThanOrEqual(86_400);
          const day = (s: number) => Math.floor((s + 8 * 3600) / 86_400);
          expect(day(window.end - 1)).toBe(day(window.start));
          expected = window.end;
        }
        expect(expected).toBe(length === 0 ? from : from + length);
      }),
      { numRuns: 300 },
    );
  });
});
