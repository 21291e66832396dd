import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_HEAP_FLAGS, HEAP_DEFAULTS_MARK, heapFlagsToAdd, restartEnvironment } from '../src/memory-defaults.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');

describe('restartEnvironment', () => {
  it('adds two malloc arenas and the restart mark, keeping the rest of the environment', () => {
    expect(restartEnvironment({ PATH: '/bin' })).toEqual({
      PATH: '/bin',
      MALLOC_ARENA_MAX: '2',
      [HEAP_DEFAULTS_MARK]: '1',
    });
  });

  it("keeps the user's own MALLOC_ARENA_MAX", () => {
    expect(restartEnvironment({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX).toBe('8');
  });
});

describe('heapFlagsToAdd', () => {
  it('adds the CLI heap defaults when the user sized nothing', () => {
    expect(heapFlagsToAdd([], { NODE_OPTIONS: '--enable-source-maps' })).toEqual([...CLI_HEAP_FLAGS]);
  });

  it.each([
    ['NODE_OPTIONS', [], { NODE_OPTIONS: '--max-old-space-size=512' }],
    ['the node command line', ['--max-semi-space-size=8'], {}],
    ['KEFU_NODE_HEAP=default', [], { KEFU_NODE_HEAP: 'default' }],
    ['an already restarted process', [], { [HEAP_DEFAULTS_MARK]: '1' }],
  ])('adds none when overridden by %s', (_what, execArgv, env) => {
    expect(heapFlagsToAdd(execArgv, env)).toEqual([]);
  });
});

// process.execve arrived in Node 23.11: on an older Node the bin applies no defaults (documented).
const hasExecve = typeof (process as { execve?: unknown }).execve === 'function';

describe.runIf(hasExecve)('kefu with its heap defaults (the built bin)', () => {
  let dir: string;
  let preload: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kefu-heap-'));
    preload = join(dir, 'print-heap.cjs');
    // Runs in every process image before the CLI: prints the flags and the heap limit it got.
    await writeFile(
      preload,
      "process.stderr.write('heap ' + JSON.stringify({ execArgv: process.execArgv, limitMiB: Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 1048576), pid: process.pid }) + '\\n');\n",
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function heapOf(env: Record<string, string>) {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, '--version'], {
      env: { ...process.env, [HEAP_DEFAULTS_MARK]: '', KEFU_NODE_HEAP: '', ...env },
    });
    const lines = stderr.split('\n').filter((line) => line.startsWith('heap '));
    return {
      stdout,
      runs: lines.map((line) => JSON.parse(line.slice(5)) as { execArgv: string[]; limitMiB: number; pid: number }),
    };
  }

  it('given no heap flags, when run, then the same process continues with the CLI defaults', async () => {
    const { stdout, runs } = await heapOf({ NODE_OPTIONS: `--require ${preload}` });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(runs).toHaveLength(2);
    expect(runs[1]?.execArgv).toEqual([...CLI_HEAP_FLAGS]);
    expect(runs[1]?.pid).toBe(runs[0]?.pid);
    expect(runs[1]?.limitMiB).toBeLessThan(runs[0]?.limitMiB ?? 0);
  });

  it('given heap flags in NODE_OPTIONS, when run, then they are kept and nothing is added', async () => {
    const { runs } = await heapOf({ NODE_OPTIONS: `--require ${preload} --max-old-space-size=300` });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.execArgv).toEqual([]);
  });
});
