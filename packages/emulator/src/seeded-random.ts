import { createHash } from 'node:crypto';
import { seededRandom } from '@kefu/core';

/**
 * Deterministic pseudo-randomness. Every generated value is a pure function of the
 * emulator seed and a position (account, day, index …), so a 10 M-record account costs
 * no memory and any record can be produced again in isolation.
 */

/** A 32-bit hash of the seed and the parts (FNV-1a over their string forms). */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** A number in [0, 1) determined by the parts. */
export function unitFloat(...parts: Array<string | number>): number {
  return seededRandom(hash32(...parts))();
}

/** Sequences derived from one hash use core's seeded PRNG (mulberry32). */
export { seededRandom as mulberry32 } from '@kefu/core';

/** Picks one element deterministically. */
export function pick<T>(items: readonly T[], ...parts: Array<string | number>): T {
  return items[Math.floor(unitFloat(...parts) * items.length)] as T;
}

/** A stable identifier-like string (hex) of the given length. */
export function stableId(length: number, ...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);
}
