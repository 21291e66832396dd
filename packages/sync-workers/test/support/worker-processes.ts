import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.mjs', import.meta.url));
/** The built entry points the fixture imports (`pnpm test` builds them first). */
const BUILT = ['sync-workers', 'sink-db', 'sink-nats', 'wechat-mp', 'core'].map((name) =>
  fileURLToPath(new URL(`../../../${name}/dist/index.js`, import.meta.url)),
);

/** Fails with the command to run when a package the fixture needs is not built. */
export function assertBuilt(): void {
  const missing = BUILT.filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `build first (pnpm build, or pnpm tsc -b packages/sync-workers packages/sink-db packages/sink-nats packages/wechat-mp): missing ${missing.join(', ')}`,
    );
  }
}

/** One worker child process and the JSON events it printed. */
export interface WorkerProcess {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  stderr: string[];
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Resolves with the first event matching `predicate`. */
  when(predicate: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** Starts the fixture worker with `spec` (JSON in KEFU_WORKER_SPEC). */
export function startWorkerProcess(spec: Record<string, unknown>): WorkerProcess {
  return startEventingProcess([FIXTURE], { KEFU_WORKER_SPEC: JSON.stringify(spec) });
}

/**
 * Starts `node <args>` with `env` added to this process's environment, reading the NDJSON
 * events it prints on stdout (the fixture's, or those of `kefu worker --json`).
 */
export function startEventingProcess(args: readonly string[], env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, [...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters: Array<{
    predicate: (event: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      stderr.push(line);
      return;
    }
    events.push(event);
    for (const waiter of waiters.splice(0)) {
      if (waiter.predicate(event)) waiter.resolve(event);
      else waiters.push(waiter);
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    events,
    stderr,
    exited,
    when: (predicate) =>
      new Promise((resolve) => {
        const found = events.find(predicate);
        if (found) resolve(found);
        else waiters.push({ predicate, resolve });
      }),
  };
}
