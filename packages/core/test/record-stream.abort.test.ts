import { type JsonValue, type RecordPage, RecordStream } from '@kefu/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureKey, fixtureRecord, turns, untilAborted } from './record-stream-fixtures.js';

// Ctrl-C in the middle of a sync: the stream is aborted while its consumer holds a page and
// the next page is still being fetched. That fetch then fails (its source sees the abort);
// nobody is waiting for it any more, and its failure must not surface as an unhandled
// rejection — `kefu sync` died of one with exit 1 instead of stopping with 130.

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** One page, then a page that fails only once the stream's signal aborts. */
const source = {
  async *pages(_position: JsonValue, signal: AbortSignal): AsyncGenerator<RecordPage> {
    yield { records: [fixtureRecord(0)], position: 1 };
    await untilAborted(signal);
    yield { records: [fixtureRecord(1)], position: 2 };
  },
};

describe('aborting a stream while the next page is in flight', () => {
  it('given a consumer holding a page, when the signal aborts and it asks for the next, then it gets KEFU_SYNC_ABORTED and nothing is left unhandled', async () => {
    const controller = new AbortController();
    const pages = new RecordStream(fixtureKey, source).pages({ signal: controller.signal });
    expect((await pages.next()).value?.records).toHaveLength(1);
    controller.abort();
    await expect(pages.next()).rejects.toMatchObject({ code: 'KEFU_SYNC_ABORTED' });
    // Let the abandoned fetch settle (a few turns of the event loop): its rejection must have had a handler.
    await turns(3);
    expect(unhandled).toEqual([]);
  });
});
