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

  it('runs the embed example: servicers, a day of records, a message sent', async () => {
    const readme = await readFile(join(here, '..', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(snippet).toContain('createKefu');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    await writeFile(snippetPath, snippet.replace("from '@kefu/wecom-kf'", "from '../src/index.js'"));
    await import(snippetPath);
    expect(lines.filter((line) => line.startsWith('servicer '))).toEqual([
      'servicer zhangsan true',
      'servicer lisi false',
    ]);
    expect(lines.filter((line) => /^\d{4}-\d\d-\d\dT.*Z (inbound|outbound|system) /.test(line)).length).toBeGreaterThan(
      0,
    );
    expect(lines.at(-1)).toMatch(/^sent \S+ outbound$/);
  });
});

describe('docs/providers/wecom-kf.md', () => {
  it('lists every code of the error catalogue', async () => {
    const { wecomKfErrorCatalogue } = await import('../src/errors.js');
    const doc = await readFile(join(here, '..', '..', '..', 'docs', 'providers', 'wecom-kf.md'), 'utf8');
    const missing = Object.keys(wecomKfErrorCatalogue).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
