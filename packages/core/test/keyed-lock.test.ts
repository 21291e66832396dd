import { KeyedLock, seededRandom } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** A promise resolved from outside, to hold a run open until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('KeyedLock', () => {
  it('runs work of one key one at a time, in order, and other keys alongside', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const first = gate();
    const a1 = lock.run('a', async () => {
      log.push('a1 start');
      await first.opened;
      log.push('a1 end');
    });
    const a2 = lock.run('a', async () => {
      log.push('a2');
      return 2;
    });
    const b = lock.run('b', async () => {
      log.push('b');
    });
    await b;
    expect(log).toEqual(['a1 start', 'b']);
    first.open();
    expect(await a2).toBe(2);
    await a1;
    expect(log).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('goes on with the next run after a failed one, and the failure reaches its caller', async () => {
    const lock = new KeyedLock();
    const failed = lock.run('a', async () => {
      throw new Error('boom');
    });
    const next = lock.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = seededRandom(seed);
        const b = seededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const value = a();
          expect(value).toBe(b());
          expect(value >= 0 && value < 1).toBe(true);
        }
      }),
    );
  });

  it('keeps the sequence of mulberry32 (the emulator data and replayed crash seeds depend on it)', () => {
    const random = seededRandom(42);
    expect([random(), random(), random()].map((value) => value.toFixed(8))).toEqual(
      [0.6011037519, 0.448290559, 0.8524657935].map((value) => value.toFixed(8)),
    );
  });
});
