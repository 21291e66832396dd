import { spawn } from 'node:child_process';

/**
 * Crash tests run the code under test in a real child process and kill it with SIGKILL
 * (a fault that must be produced for real: no `finally`, no flush). These helpers are
 * what every crash test of the project shares.
 */

/** How a child run ended. */
export interface ChildRun {
  /** True when the run ended because it was sent SIGKILL after reporting ready. */
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runKillableChild}. */
export interface KillableChildOptions {
  cwd?: string;
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** SIGKILL this long after stdout first contains `readyMarker` (unless it finished before). */
  killAfterReadyMs?: number;
  /** What the child prints once it is ready to be killed mid-work (default `"ready":true`). */
  readyMarker?: string;
  /** Every run is bounded: SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Runs `node <script> ...args`, optionally killing it with SIGKILL a given time after it
 * reports ready, and resolves with how it ended.
 *
 * @example
 * ```ts
 * const run = await runKillableChild('fixtures/writer.mjs', [JSON.stringify(options)], { killAfterReadyMs: 120 });
 * if (!run.killed) expect(run.code).toBe(0);
 * ```
 */
export function runKillableChild(
  script: string,
  args: readonly string[] = [],
  options: KillableChildOptions = {},
): Promise<ChildRun> {
  const readyMarker = options.readyMarker ?? '"ready":true';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    let killed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.killAfterReadyMs !== undefined && killTimer === undefined && stdout.includes(readyMarker)) {
        killTimer = setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, options.killAfterReadyMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    // 'close', not 'exit': only then has all of stdout and stderr been read.
    child.once('close', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(guard);
      resolve({ killed: killed && signal === 'SIGKILL', code, stdout, stderr });
    });
  });
}

/** Core's seeded PRNG (mulberry32), so a failing crash test can be replayed from its seed. */
export { seededRandom } from '@kefu/core';

/** The crash test's seed: `KEFU_CRASH_SEED` when set (to replay a failure), else a random one. */
export function crashSeed(): number {
  return Number(process.env.KEFU_CRASH_SEED ?? Math.floor(Math.random() * 1_000_000));
}
