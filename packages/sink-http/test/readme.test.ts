import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    const { stdout } = await runReadmeSnippet({ packageDir, cwd });
    expect(stdout).toBe('stored 1 records\n');
  });
});
