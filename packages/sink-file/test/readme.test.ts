import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The README's first TypeScript snippet runs as a real program: node strips the types,
// and the package imports itself by name, which resolves to the built dist/ (`pnpm test`
// builds first; alone, run `pnpm tsc -b packages/sink-file`).
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const snippetPath = join(packageDir, 'test', '.readme-snippet.mts');

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'kefu-readme-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
  await rm(snippetPath, { force: true });
});

describe('README', () => {
  it('has a runnable snippet', async () => {
    expect(existsSync(join(packageDir, 'dist/index.js'))).toBe(true);
    const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    await writeFile(snippetPath, snippet!);
    await promisify(execFile)(process.execPath, [snippetPath], { cwd, timeout: 20_000 });
    const written = gunzipSync(await readFile(join(cwd, 'archive/wechat-mp/wx1234567890/2026-01-01.0000.jsonl.gz')));
    expect(JSON.parse(written.toString('utf8')).text).toBe('你好');
  });
});
