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

  it('given a live block, when a log line is printed, then it goes above the block, which is drawn again whole below it', () => {
    const output = new Terminal();
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-03T00:00:00Z');
    const renderer = new ProgressRenderer({ output, logger: silentLogger, from, to });
    const base = { records: 10, pages: 1, retries: 0 };
    renderer.update({ ...base, type: 'batch-committed', target: 'wx/a' });
    renderer.update({ ...base, type: 'batch-committed', target: 'wx/b' });
    renderer.finish();
    const before = output.text.length;
    renderer.printAbove('{"level":"warn","msg":"slow sink"}');
    const after = output.text.slice(before);
    // Up over the two block lines and erase them, the log line, then both bars again.
    expect(after.startsWith('\u001b[2F\u001b[0J{"level":"warn","msg":"slow sink"}\n')).toBe(true);
    const redrawn = after.split('\n').slice(1, -1);
    expect(redrawn).toHaveLength(2);
    expect(redrawn[0]).toContain('wx/a');
    expect(redrawn[1]).toContain('wx/b');
  });

  it('given no terminal, when a log line is printed, then it is written as is', () => {
    const output = new Terminal();
    Object.defineProperty(output, 'isTTY', { value: false });
    const renderer = new ProgressRenderer({ output, logger: silentLogger, from: new Date(0), to: new Date(1) });
    renderer.printAbove('{"msg":"x"}');
    expect(output.text).toBe('{"msg":"x"}\n');
  });
});
