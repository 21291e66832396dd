import type { Readable, Writable } from 'node:stream';
import { ExitCode } from './exit-codes.js';

/** Where the CLI reads and writes; tests pass their own streams. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin?: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const guardedStreams = new WeakSet<Writable>();

/**
 * Lets output to a pipe whose reader went away end quietly (`kefu errors | head -1`): the
 * EPIPE, and writes after it, are dropped instead of crashing the process with an
 * unhandled 'error' event and a stack trace. The command still exits with its own code.
 */
export function endQuietlyOnClosedPipe(stream: Writable): void {
  if (guardedStreams.has(stream)) return;
  guardedStreams.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    // Any other output failure (a full disk behind a redirect) fails the run, without a stack trace.
    process.exitCode = ExitCode.Failed;
  });
}

/** The process's own streams (a closed pipe on stdout or stderr ends output quietly). */
export function processIo(): CliIo {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}
