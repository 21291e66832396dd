import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { runReadmeSnippet } from '@kefu/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The README's first TypeScript snippet runs as a real program against the built dist/.
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'kefu-readme-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('README', () => {
  it('has a runnable snippet', async () => {
    await runReadmeSnippet({ packageDir, cwd });
    const written = gunzipSync(await readFile(join(cwd, 'archive/wechat-mp/wx1234567890/2026-01-01.0000.jsonl.gz')));
    expect(JSON.parse(written.toString('utf8')).text).toBe('你好');
  });
});
