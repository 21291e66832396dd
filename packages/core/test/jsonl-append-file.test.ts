import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlAppendFile } from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-jsonl-append-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('JsonlAppendFile', () => {
  it('given values, when appended, then each is one line of a 0600 file, in order', async () => {
    const path = join(scratch, 'nested', 'lines.jsonl');
    const file = new JsonlAppendFile(path);
    await Promise.all([file.append({ n: 1 }), file.append({ n: 2 }), file.append({ n: 3 })]);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('given a full disk (/dev/full answers ENOSPC for real), when appending, then KEFU_DEAD_LETTER_FAILED says "disk full" and names the file', async () => {
    const path = join(scratch, 'full.jsonl');
    symlinkSync('/dev/full', path);
    await expect(new JsonlAppendFile(path, { what: 'dead-letter file' }).append({ n: 1 })).rejects.toThrow(
      expect.objectContaining({
        code: 'KEFU_DEAD_LETTER_FAILED',
        message: expect.stringMatching(/^disk full: cannot append to the dead-letter file \S+full\.jsonl: ENOSPC/),
        retryable: true,
      }),
    );
  });
});
