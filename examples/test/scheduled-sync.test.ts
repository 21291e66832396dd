import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../src/scheduled-sync.js';

describe('example: scheduled incremental sync', () => {
  it('reads only new records on each run and nothing twice', async () => {
    const result = await main();
    try {
      expect(result.runs).toHaveLength(3);
      expect(result.runs[0]).toBeGreaterThan(0);
      expect(result.runs[1]).toBeGreaterThan(0);
      expect(result.total).toBe(result.expected);
    } finally {
      await rm(result.dir, { recursive: true, force: true });
    }
  });
});
