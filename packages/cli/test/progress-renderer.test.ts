import { Writable } from 'node:stream';
import { ProgressRenderer } from '@kefu/cli';
import { silentLogger } from '@kefu/core';
import { describe, expect, it } from 'vitest';

// The live progress block on a terminal: a stopped target must read as stopped, not as a
// full bar marked done (target-done also ends stopped and quota-exhausted targets).

class Terminal extends Writable {
  readonly isTTY = true;
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('ProgressRenderer', () => {
  it('given a target stopped half-way and one done, when the block is drawn, then the stopped one shows stopped and a partial bar', () => {
    const output = new Terminal();
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-03T00:00:00Z');
    const renderer = new ProgressRenderer({ output, logger: silentLogger, from, to });
    const base = { records: 10, pages: 1, retries: 0 };
    renderer.update({
      ...base,
      type: 'batch-committed',
      target: 'wx/a',
      checkpoint: { recordAt: '2026-11-02T00:00:00.000Z' },
    });
    renderer.update({ ...base, type: 'target-done', target: 'wx/a', status: 'stopped' });
    renderer.update({ ...base, type: 'target-done', target: 'wx/b', status: 'done' });
    renderer.finish();
    const lines = output.text.split('\n');
    const stopped = lines.findLast((line) => line.includes('wx/a')) ?? '';
    const done = lines.findLast((line) => line.includes('wx/b')) ?? '';
    expect(stopped).toMatch(/█{10}░{10}.* stopped$/);
    expect(done).toMatch(/█{20}.* done$/);
  });
});
