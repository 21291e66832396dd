import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package (git-ignored `tmp/`), so `@kefu/core` resolves by self-reference.
const scratchDir = join(coreDir, 'test', 'tmp', `readme-${process.pid}`);

afterAll(async () => {
  await rm(scratchDir, { recursive: true, force: true });
});

describe('README quick start', () => {
  it('runs as written and syncs the four records it promises', async () => {
    const readme = await readFile(join(coreDir, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(quickStart)?.[1];
    expect(snippet).toContain('createKefu');
    await mkdir(scratchDir, { recursive: true });
    const file = join(scratchDir, 'quick-start.ts');
    await writeFile(file, snippet ?? '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { received: { id: string }[] };
      expect(module.received.map((r) => r.id).sort()).toEqual(['shop-1-1', 'shop-1-2', 'shop-2-1', 'shop-2-2']);
      expect(log).toHaveBeenCalledWith('4 records', expect.any(Array));
    } finally {
      log.mockRestore();
    }
  });
});
