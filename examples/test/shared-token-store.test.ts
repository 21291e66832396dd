import { describe, expect, it } from 'vitest';
import { main } from '../src/shared-token-store.js';

describe('example: sharing WeChat tokens through a DI-bound token store', () => {
  it('given two runtimes binding one token store, when both read records, then WeChat issues one token', async () => {
    const walkthrough = await main();
    expect(walkthrough.recordsPerRuntime).toHaveLength(2);
    expect(walkthrough.recordsPerRuntime[0]).toBeGreaterThan(0);
    expect(walkthrough.recordsPerRuntime[1]).toBe(walkthrough.recordsPerRuntime[0]);
    expect(walkthrough.tokenRequests).toBe(1);
    expect(walkthrough.storeWrites).toBe(1);
  });
});
