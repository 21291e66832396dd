import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..', '..');

/** How a child run ended. */
export interface ChildRun {
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Fails loudly when a fixture cannot run: fixtures import the packages' built dist, which
 * `pnpm test` builds first (`pnpm build` when running this package alone).
 */
export function assertPackagesBuilt(packages: readonly string[]): void {
  const missing = packages.filter((name) => !existsSync(join(packageDir, '..', name, 'dist', 'index.js')));
  if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')}; run \`pnpm build\` first`);
}

/**
 * Runs `node <fixture> <json>`; with `killAfterMs` it gets SIGKILL that long after it
 * prints `"ready":true` (unless it finished before). `timeoutMs` bounds every run.
 */
export function runFixture(
  fixture: string,
  options: object,
  { killAfterMs, timeoutMs = 60_000 }: { killAfterMs?: number; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(here, '..', 'fixtures', fixture), JSON.stringify(options)],
      {
        cwd: packageDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    let killed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfterMs !== undefined && killTimer === undefined && stdout.includes('"ready":true')) {
        killTimer = setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(guard);
      resolve({ killed: killed && signal === 'SIGKILL', code, stdout, stderr });
    });
  });
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
