import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '@kefu/emulator';
import type { WorkerResult, WorkerTask } from './bench-worker.js';
import { benchError } from './errors.js';

const here = dirname(fileURLToPath(import.meta.url));

/** An emulator running in its own process. */
export interface EmulatorProcess {
  url: string;
  appId: string;
  secret: string;
  stop(): Promise<void>;
}

/** Reads the first JSON line a child prints; rejects with its stderr when it exits first. */
function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as T);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      reject(
        benchError(
          'BENCH_CHILD_FAILED',
          `${what} exited (${signal ?? code}) without a result:\n${stderr.slice(-2000)}`,
        ),
      );
    });
  });
}

/** Starts the emulator in a child process with `options`. */
export async function startEmulatorProcess(options: EmulatorOptions): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [join(here, 'emulator-process.js'), JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const started = await firstJsonLine<{ url: string; appId: string; secret: string }>(child, 'the emulator');
  return {
    ...started,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
      }),
  };
}

/**
 * Runs one task in a fresh worker process (with extra Node flags, if any; inside the
 * cgroup whose `cgroup.procs` is given, if any) and returns what it measured.
 */
export function runWorker(
  task: WorkerTask,
  nodeFlags: readonly string[] = [],
  cgroupProcs?: string,
): Promise<WorkerResult> {
  const command = [process.execPath, ...nodeFlags, join(here, 'bench-worker.js'), JSON.stringify(task)];
  // The shell joins the cgroup, then becomes the worker: Node reads its limit at start.
  const child = cgroupProcs
    ? spawn('/bin/sh', ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', cgroupProcs, ...command], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  return firstJsonLine<WorkerResult>(child, `the ${task.task} worker`);
}
