import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const snippetPath = join(here, '.readme-snippet.generated.ts');

describe('README', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(snippetPath, { force: true });
  });

  it('runs the snippet: decrypts the official push, encrypts a reply, answers the URL check', async () => {
    const readme = await readFile(join(here, '..', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(snippet).toContain('WechatCallbackCrypto');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    await writeFile(snippetPath, snippet.replace("from '@kefu/wechat-crypto'", "from '../src/index.js'"));
    await import(snippetPath);
    expect(lines).toEqual(['event debug_demo o9AgO5Kd5ggOC-bXrbNODIiE3bGY', 'true', '4375120948345356249']);
  });
});

describe('docs/errors.md', () => {
  it('lists every code of the catalogue', async () => {
    const { wechatCryptoErrorCatalogue } = await import('../src/errors.js');
    const doc = await readFile(join(here, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const missing = Object.keys(wechatCryptoErrorCatalogue).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
