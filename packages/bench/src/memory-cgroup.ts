import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A memory cgroup for a benchmark child: what a container's memory limit looks like to
 * Node, which sizes its heap from the limit (`process.constrainedMemory()`).
 */
export interface MemoryCgroup {
  /** The `cgroup.procs` file a child writes its pid to, to join the group. */
  procs: string;
  /** Waits (up to 10 s) for the group's processes to exit, then removes it. */
  remove(): Promise<void>;
}

/**
 * Creates a memory cgroup limited to `bytes` under cgroup v1 or v2, or returns why it
 * cannot (not root, no memory controller, a read-only hierarchy): the caller reports the
 * rows as skipped with that reason.
 */
export function createMemoryCgroup(bytes: number, name: string): MemoryCgroup | { unavailable: string } {
  const v1 = '/sys/fs/cgroup/memory';
  const v2 = '/sys/fs/cgroup';
  let dir: string;
  let limitFile: string;
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    dir = join(v1, name);
    limitFile = 'memory.limit_in_bytes';
  } else if (existsSync(join(v2, 'cgroup.controllers'))) {
    if (!readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8').includes('memory')) {
      return { unavailable: 'cgroup v2 without the memory controller delegated' };
    }
    dir = join(v2, name);
    limitFile = 'memory.max';
  } else {
    return { unavailable: 'no cgroup memory controller mounted' };
  }
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, limitFile), String(bytes));
  } catch (error) {
    removeDirectory(dir);
    return { unavailable: `cannot create a memory cgroup (${(error as NodeJS.ErrnoException).code ?? error})` };
  }
  const procs = join(dir, 'cgroup.procs');
  return {
    procs,
    remove: async () => {
      // A worker reports its figures before it exits: wait until the group is empty.
      for (let waited = 0; waited < 10_000 && readFileSync(procs, 'utf8').trim() !== ''; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      removeDirectory(dir);
    },
  };
}

function removeDirectory(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Never created, or still busy: nothing a benchmark should fail on.
  }
}
