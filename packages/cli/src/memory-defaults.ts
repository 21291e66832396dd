/**
 * The `kefu` command's own V8 heap defaults. Node sizes its heap for the machine (young
 * generation up to 3 × 16 MiB of semi-spaces, old generation up to a quarter of RAM), so
 * a sync whose live heap is ~25 MB grows to 250–400 MiB of RSS on a large host: head-room
 * the garbage collector leaves unused. `bin.ts` restarts the process image (execve, same
 * PID) with these flags unless the user chose heap flags of their own (in NODE_OPTIONS or
 * on the node command line) or set KEFU_NODE_HEAP=default. Like node-version.ts, this
 * module imports nothing, so it runs before the rest of the CLI.
 */

/** The flags added by default: small semi-spaces (cheap minor GCs, little head-room) and a bounded old space. */
export const CLI_HEAP_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=160'] as const;

/** Heap flags that mean "the user sized the heap": then kefu adds none. */
const HEAP_FLAG = /--(max-old-space-size|max-semi-space-size|max-heap-size|max-young-generation-size)\b/;

/** Marks the restarted process, so it never restarts again. */
export const HEAP_DEFAULTS_MARK = 'KEFU_NODE_HEAP_APPLIED';

/**
 * The environment of the restarted process: glibc's malloc keeps an arena per thread
 * that allocates (up to 8 per core), and a sync has a dozen threads (V8's, libuv's, the
 * SQLite sink's). Two arenas measured 5–10 MiB less peak RSS for `kefu sync` at 100 k
 * records (SQLite 217 → 206 MiB, PostgreSQL 139 → 134 MiB); a MALLOC_ARENA_MAX of the
 * user's own is kept.
 */
export function restartEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { MALLOC_ARENA_MAX: '2', ...env, [HEAP_DEFAULTS_MARK]: '1' };
}

/**
 * The flags to restart with, or none: when the defaults are off (KEFU_NODE_HEAP=default),
 * already applied, or the user passed heap flags of their own.
 */
export function heapFlagsToAdd(execArgv: readonly string[], env: Record<string, string | undefined>): string[] {
  if (env[HEAP_DEFAULTS_MARK] === '1' || env.KEFU_NODE_HEAP === 'default') return [];
  if (execArgv.some((flag) => HEAP_FLAG.test(flag)) || HEAP_FLAG.test(env.NODE_OPTIONS ?? '')) return [];
  return [...CLI_HEAP_FLAGS];
}
