import { toIsoTimestamp } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** What `toIsoTimestamp` must equal: Date's own result, or its error. */
function viaDate(epochMs: number): string {
  try {
    return new Date(epochMs).toISOString();
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

function viaFastPath(epochMs: number): string {
  try {
    return toIsoTimestamp(epochMs);
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

const LAST_MS_OF_9999 = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

describe('toIsoTimestamp', () => {
  it('equals Date#toISOString over the whole fast range (1970–9999)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS_OF_9999 }), (ms) => {
        expect(viaFastPath(ms)).toBe(viaDate(ms));
      }),
      { numRuns: 20_000 },
    );
  });

  it('equals Date#toISOString for ordered runs within a day (its cached day)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LAST_MS_OF_9999 - 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 50 }),
        (start, steps) => {
          let ms = start;
          for (const step of steps) {
            ms += step;
            expect(viaFastPath(ms)).toBe(viaDate(ms));
          }
        },
      ),
    );
  });

  it('equals Date#toISOString for ordered whole seconds, as platforms give them (its cached minute)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Math.floor(LAST_MS_OF_9999 / 1000) - 1_000_000 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 60 }),
        (startSecond, steps) => {
          let second = startSecond;
          for (const step of steps) {
            second += step;
            expect(viaFastPath(second * 1000)).toBe(viaDate(second * 1000));
          }
        },
      ),
    );
  });

  it('equals Date#toISOString at calendar edges and outside the fast range', () => {
    const edges = [
      0,
      1,
      999,
      Date.UTC(1970, 0, 1, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(2100, 1, 28, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
      Date.UTC(2400, 1, 29),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      LAST_MS_OF_9999,
      LAST_MS_OF_9999 + 1,
      -1,
      -62_198_755_200_000, // year 0
      8.64e15,
      8.64e15 + 1,
      1.5,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ];
    for (const ms of edges) expect(viaFastPath(ms), String(ms)).toBe(viaDate(ms));
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer({ min: -8.64e15, max: 8.64e15 })), (ms) => {
        expect(viaFastPath(ms)).toBe(viaDate(ms));
      }),
    );
  });
});
