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

  it('runs the embed example: lists agents and streams a day of records', async () => {
    const readme = await readFile(join(here, '..', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(snippet).toContain('createKefu');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    await writeFile(snippetPath, snippet.replace("from '@kefu/wechat-mp'", "from '../src/index.js'"));
    await import(snippetPath);
    expect(lines.filter((line) => line.startsWith('agent ')).length).toBeGreaterThan(0);
    expect(lines.filter((line) => /^\d{4}-\d\d-\d\dT.*Z (inbound|outbound|system) /.test(line)).length).toBeGreaterThan(
      0,
    );
  });
});

describe('docs/providers/wechat-mp.md', () => {
  it('lists every code of the error catalogue', async () => {
    const { wechatMpErrorCatalogue } = await import('../src/errors.js');
    const doc = await readFile(join(here, '..', '..', '..', 'docs', 'providers', 'wechat-mp.md'), 'utf8');
    const missing = Object.keys(wechatMpErrorCatalogue).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
