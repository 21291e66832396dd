import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_PLUGINS, runCli } from '@kefu/cli';
import { loadKefu, silentLogger } from '@kefu/core';
import { describe, expect, it } from 'vitest';

const readmePath = join(fileURLToPath(import.meta.url), '../../README.md');

describe('the CLI README', () => {
  it('has a config example that composes a runtime with the bundled plugins', async () => {
    const readme = await readFile(readmePath, 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toMatch(/^providers:|\nproviders:/);
    const dir = await mkdtemp(join(tmpdir(), 'kefu-readme-'));
    try {
      await writeFile(join(dir, 'kefu.config.yaml'), yaml!);
      const kefu = await loadKefu(join(dir, 'kefu.config.yaml'), {
        env: { WECHAT_SECRET: 'readme-example-secret' },
        logger: silentLogger,
        bundledPlugins: BUNDLED_PLUGINS,
      });
      expect(kefu.providers().map((p) => p.id)).toEqual(['wx-shop']);
      expect(kefu.sinks().map((s) => s.id)).toEqual(['db', 'archive']);
      await kefu.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs the embedding snippet', async () => {
    let output = '';
    const stdout = {
      write: (text: string) => {
        output += text;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const code = await runCli(['errors', 'WECHAT_45009'], {
      stdout: stdout as never,
      stderr: stdout as never,
      env: process.env,
      cwd: process.cwd(),
    });
    expect(code).toBe(0);
    expect(output).toContain('WECHAT_45009');
  });
});
