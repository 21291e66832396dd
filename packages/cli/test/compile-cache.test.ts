import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');

describe('kefu keeps its compiled code on disk (the built bin)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function versionWith(env: Record<string, string | undefined>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'kefu-compile-cache-'));
    dirs.push(dir);
    const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _disabled, ...rest } = process.env;
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--version'], {
      env: { ...rest, TMPDIR: dir, ...env },
    });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    return dir;
  }

  it('given no setting, when run, then it caches in node-compile-cache under the temp directory', async () => {
    const dir = await versionWith({});
    const cache = join(dir, 'node-compile-cache');
    expect(existsSync(cache)).toBe(true);
    expect(readdirSync(cache).length).toBeGreaterThan(0);
  });

  it('given NODE_DISABLE_COMPILE_CACHE=1, when run, then it writes no cache', async () => {
    const dir = await versionWith({ NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(existsSync(join(dir, 'node-compile-cache'))).toBe(false);
  });
});
