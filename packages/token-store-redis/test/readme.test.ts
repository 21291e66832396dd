import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCatalogueMarkdown } from '@kefu/core';
import { integrationServer, runReadmeSnippet } from '@kefu/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisTokenStoreErrorCatalogue } from '../src/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const redis = await integrationServer('redis');

describe('README', () => {
  it('given the error catalogue, when reading the README, then its errors table is exactly the generated one', async () => {
    const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
    expect(readme.slice(readme.indexOf('## Errors'))).toContain(errorCatalogueMarkdown(redisTokenStoreErrorCatalogue));
  });

  describe.skipIf(!redis.available)('on Redis', () => {
    const keyPrefix = `kefu-test:${randomUUID()}:`;
    afterAll(async () => {
      const client = new Redis(redis.url);
      const keys = await client.keys(`${keyPrefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    });

    it('given the first snippet, when it runs as a program, then it prints what the README says', async () => {
      const cwd = await mkdtemp(join(tmpdir(), 'kefu-readme-'));
      const saved = { url: process.env.REDIS_URL, prefix: process.env.KEFU_TOKEN_PREFIX };
      process.env.REDIS_URL = redis.url;
      process.env.KEFU_TOKEN_PREFIX = keyPrefix;
      try {
        const { stdout } = await runReadmeSnippet({ packageDir, cwd });
        const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
        const printed = /prints\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
        expect(stdout).toBe(printed);
      } finally {
        process.env.REDIS_URL = saved.url;
        process.env.KEFU_TOKEN_PREFIX = saved.prefix;
        if (saved.url === undefined) delete process.env.REDIS_URL;
        if (saved.prefix === undefined) delete process.env.KEFU_TOKEN_PREFIX;
        await rm(cwd, { recursive: true, force: true });
      }
    });
  });
});
