/**
 * Runs async work one at a time per key, in the order it was asked for; work on other
 * keys runs alongside. A failed run does not block the next one. The one per-key lock of
 * kefu (token refreshes per app id, checkpoint saves, a SQLite file's writes): in one
 * process only — locks across processes (a lock file, a PostgreSQL advisory lock) wrap it.
 *
 * @example
 * ```ts
 * const lock = new KeyedLock();
 * await lock.run('wx123', () => refreshToken('wx123'));
 * ```
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier run of `key` finished; settles as `work` does. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.#tails.set(key, current);
    try {
      return await current;
    } finally {
      // The last in line forgets the key, so the map holds only keys with work pending.
      if (this.#tails.get(key) === current) this.#tails.delete(key);
    }
  }
}
