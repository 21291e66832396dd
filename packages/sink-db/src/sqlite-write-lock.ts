import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One lock per SQLite file in this process; see DatabaseSink's `#exclusive` for why. */
export class SqliteWriteLock {
  static readonly #locks = new Map<string, SqliteWriteLock>();
  #tail: Promise<unknown> = Promise.resolve();

  /** The lock of a file, shared by every sink of this process that opens it. */
  static forFile(path: string): SqliteWriteLock | undefined {
    // In-memory databases are private to their connection: nothing to share.
    if (path === ':memory:') return undefined;
    const key = canonicalPath(path);
    let lock = SqliteWriteLock.#locks.get(key);
    if (!lock) {
      lock = new SqliteWriteLock();
      SqliteWriteLock.#locks.set(key, lock);
    }
    return lock;
  }

  /** Runs `work` after every earlier holder finished. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** The same file reached through different paths (symlinks, `..`) must share one lock. */
function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // The file does not exist yet: canonicalize its directory.
    try {
      return join(realpathSync(dirname(path)), path.slice(dirname(path).length + 1));
    } catch {
      return path;
    }
  }
}
