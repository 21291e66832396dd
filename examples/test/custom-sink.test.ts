import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSink } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';
import { main, readTranscripts, TranscriptSink } from '../src/custom-sink.js';

describe('example: custom sink', () => {
  it('writes Markdown transcripts that read back losslessly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kefu-transcripts-'));
    try {
      const records = await main(dir);
      expect(records).toHaveLength(20);
      expect(records[0]?.text).toBe('消息 0 🙂');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The example sink passes the same conformance suite as the built-in ones.
describeSink('TranscriptSink example', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kefu-transcripts-'));
  const sink = new TranscriptSink({ dir });
  return {
    sink,
    readBack: () => readTranscripts(dir),
    // A real failure that keeps what was acknowledged: move the directory aside and put a
    // file in its place (permissions would not do: tests may run as root).
    breakSink: async () => {
      await rename(dir, `${dir}.aside`);
      await writeFile(dir, 'not a directory');
    },
    repairSink: async () => {
      await rm(dir, { force: true });
      await rename(`${dir}.aside`, dir);
    },
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
});
