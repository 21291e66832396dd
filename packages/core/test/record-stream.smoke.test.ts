import { type KefuRecord, type PageSource, RecordStream } from '@kefu/core';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

function rec(i: number): KefuRecord {
  return {
    id: `r${i}`,
    provider: 'p',
    account: 'a',
    customer: 'c',
    direction: 'inbound',
    kind: 'text',
    text: `t${i}`,
    at: new Date(i * 1000).toISOString(),
    raw: { i },
  };
}
const source: PageSource = {
  async *pages(position) {
    let next = (position as number | null) ?? 0;
    while (next < 10) {
      yield {
        records: [rec(next), rec(next + 1), rec(next + 2)].filter((r) => Number(r.id.slice(1)) < 10),
        position: Math.min(next + 3, 10),
      };
      next += 3;
    }
  },
};

describe('RecordStream smoke', () => {
  it('emits all records and resumes mid-page', async () => {
    const stream = new RecordStream({ provider: 'p', account: 'a' }, source);
    const all = await firstValueFrom(stream.pipe(toArray()));
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    const pages = [];
    for await (const page of stream) pages.push(page);
    const cp = pages[1]!.checkpointAfter(0);
    const resumed = await firstValueFrom(new RecordStream({ provider: 'p', account: 'a' }, source, cp).pipe(toArray()));
    expect(resumed.map((r) => r.id)).toEqual(['r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  });
});
