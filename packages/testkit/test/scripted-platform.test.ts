import { startScriptedPlatform } from '@kefu/testkit';
import { afterEach, describe, expect, it } from 'vitest';

describe('scripted platform', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('serves items by cursor until next is null', async () => {
    const platform = await startScriptedPlatform({ items: [1, 2, 3, 4, 5], maxLimit: 2 });
    stop = platform.stop;
    const pages: unknown[][] = [];
    let cursor: number | null = 0;
    while (cursor !== null) {
      const response = await fetch(`${platform.url}/items?cursor=${cursor}&limit=2`);
      const body = (await response.json()) as { items: unknown[]; next: number | null };
      pages.push(body.items);
      cursor = body.next;
    }
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
    expect(platform.cursors).toEqual([0, 2, 4]);
  });

  it('fails the scripted requests and then recovers', async () => {
    const platform = await startScriptedPlatform({
      items: ['a'],
      failures: [
        { atRequest: 1, kind: 503, retryAfterSeconds: 1 },
        { atRequest: 2, kind: 'malformed' },
        { atRequest: 3, kind: 'reset' },
      ],
    });
    stop = platform.stop;
    const first = await fetch(`${platform.url}/items`);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    await first.arrayBuffer();
    const second = await fetch(`${platform.url}/items`);
    await expect(second.json()).rejects.toThrow();
    await expect(fetch(`${platform.url}/items`)).rejects.toThrow();
    const fourth = await fetch(`${platform.url}/items`);
    expect(await fourth.json()).toEqual({ items: ['a'], next: null });
    expect(platform.itemRequests).toBe(4);
  });

  it('requires the bearer token when one is set', async () => {
    const platform = await startScriptedPlatform({ items: [1], token: 'sekret-token' });
    stop = platform.stop;
    const denied = await fetch(`${platform.url}/items`);
    expect(denied.status).toBe(401);
    await denied.arrayBuffer();
    const allowed = await fetch(`${platform.url}/items`, { headers: { authorization: 'Bearer sekret-token' } });
    expect(allowed.status).toBe(200);
    await allowed.arrayBuffer();
  });
});
