import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `kefu … | head -1`: the reader of stdout goes away. Every command that writes to stdout
// must then end quietly, with its own exit code and no stack trace. The pipe is real: the
// child's stdout is a pipe whose read end this test closes before the child writes, so
// every write gets EPIPE (with `head -1` that only happens when head wins a race).

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');

function runWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((settle, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => settle({ code, stderr }));
  });
}

describe('a closed pipe on stdout', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kefu-closed-pipe-'));
    await writeFile(join(dir, 'broken.yaml'), 'providers: [\n');
    await writeFile(join(dir, 'not-a-directory'), '');
    await writeFile(
      join(dir, 'failing.json'),
      JSON.stringify({ sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: './not-a-directory/kefu.db' } }] }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [['errors'], 0],
    [['errors', 'WECHAT_45009'], 0],
    [['errors', '--markdown'], 0],
    [['schema'], 0],
    [['--help'], 0],
    [['--version'], 0],
    [['doctor', '-c', 'broken.yaml'], 2],
    [['doctor', '-c', 'broken.yaml', '--json'], 2],
    [['sync', '-c', 'failing.json', '--json'], 0],
  ])(
    'given `kefu %j` whose reader is gone, when it writes, then it exits %i with no stack trace',
    async (args, code) => {
      const result = await runWithClosedStdout(args as string[], dir);
      expect(result.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|^\s+at /m);
      expect(result.code).toBe(code);
    },
  );
});
