import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built `kefu` bin (`pnpm test` builds first). */
export const KEFU_BIN = resolve(fileURLToPath(import.meta.url), '../../../dist/bin.js');

/**
 * Spawns `kefu serve -c <config> --log-level warn` in `cwd`. `listening` resolves with the URL
 * it prints once it listens, or rejects with `stderr` when it exits first; each stderr chunk
 * also goes to `onStderr` (tests keep it across restarts and search it for secrets).
 */
export function spawnServe(options: {
  cwd: string;
  config: string;
  env?: NodeJS.ProcessEnv;
  onStderr: (chunk: string) => void;
}): { child: ChildProcessWithoutNullStreams; listening: Promise<string> } {
  const child = spawn(process.execPath, [KEFU_BIN, 'serve', '-c', options.config, '--log-level', 'warn'], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    options.onStderr(String(chunk));
  });
  const listening = new Promise<string>((ready, failed) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /listening on (\S+)/.exec(out)?.[1];
      if (url) ready(url);
    });
    child.once('exit', (code) => failed(new Error(`kefu serve exited ${code}: ${stderr}`)));
  });
  return { child, listening };
}
