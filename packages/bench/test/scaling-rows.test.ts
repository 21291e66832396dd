import { describe, expect, it } from 'vitest';
import { scalingRows, type ThroughputFigures } from '../src/benchmarks.js';

/** Figures of one volume: rates in records/s. */
function figures(
  records: number,
  kefu: ThroughputFigures['kefu'],
  insertCeilings: ThroughputFigures['insertCeilings'],
): ThroughputFigures {
  return { volume: records, records, fetchCeiling: 200_000, kefu, insertCeilings, table: { title: '', rows: [] } };
}

const ownShare = (rows: ReturnType<typeof scalingRows>) => rows.find((row) => row.measure.startsWith("kefu's own"));

describe('scalingRows', () => {
  it('compares per-record costs, and kefu’s share above the bare insert when both are measurable', () => {
    // 1 M: 1e6/8000 − 1e6/10000 = 25 µs; 100 k: 1e6/16000 − 1e6/20000 = 12.5 µs → 2.0.
    const rows = scalingRows(
      figures(100_000, { null: 100_000, sqlite: 16_000 }, { sqlite: 20_000 }),
      figures(1_000_000, { null: 100_000, sqlite: 8_000 }, { sqlite: 10_000 }),
    );
    expect(rows.find((row) => row.measure.includes('→ null'))).toMatchObject({ ratio: 1, pass: true });
    expect(ownShare(rows)).toMatchObject({ figure: '25.00 µs vs 12.50 µs', ratio: 2, pass: false });
  });

  it('gives no ratio of shares that are noise (kefu at or below the bare insert)', () => {
    // Both negative: −2.9 / −0.5 would read as a 6× growth.
    const none = scalingRows(
      figures(100_000, { postgres: 10_650 }, { postgres: 10_595 + 100 }),
      figures(1_000_000, { postgres: 12_166 }, { postgres: 11_749 }),
    );
    expect(ownShare(none)).toMatchObject({ pass: true });
    expect(ownShare(none)?.ratio).toBeUndefined();
    expect(ownShare(none)?.figure).toContain('none measurable at the large volume');
    const onlySmall = scalingRows(
      figures(100_000, { mysql: 20_000 }, { mysql: 19_000 }),
      figures(1_000_000, { mysql: 6_000 }, { mysql: 7_000 }),
    );
    expect(ownShare(onlySmall)?.pass).toBeUndefined();
    expect(ownShare(onlySmall)?.ratio).toBeUndefined();
    expect(ownShare(onlySmall)?.figure).toContain('none measurable at the small volume');
  });
});
