import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { MemoryTokenStore } from './access-token-manager.js';
import { coreError, isKefuError } from './errors.js';
import { KeyedLock } from './keyed-lock.js';
import { registerSecret } from './redaction.js';
import { sleep } from './retry.js';
import type { StoredToken, TokenStore } from './token-store.js';

/**
 * Where a provider keeps its access tokens when no store is bound under `TOKENS.TokenStore`:
 * this process's memory, or a 0600 file shared by the processes of one host.
 */
export const TokenStoreConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory') }),
  z.strictObject({
    type: z.literal('file'),
    path: z.string().min(1),
    staleLockMs: z.number().int().positive().optional(),
    lockTimeoutMs: z.number().int().positive().optional(),
  }),
]);
/** A validated `tokenStore` config block. */
export type TokenStoreConfig = z.output<typeof TokenStoreConfigSchema>;

/** The store a `tokenStore` config block asks for; a relative file path resolves against `baseDir` (default the working directory). */
export function createConfiguredTokenStore(config: TokenStoreConfig, baseDir?: string): TokenStore {
  if (config.type === 'memory') return new MemoryTokenStore();
  const path = isAbsolute(config.path) ? config.path : resolve(baseDir ?? process.cwd(), config.path);
  return new FileTokenStore({
    path,
    ...(config.staleLockMs ? { staleLockMs: config.staleLockMs } : {}),
    ...(config.lockTimeoutMs ? { lockTimeoutMs: config.lockTimeoutMs } : {}),
  });
}

/** Options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The JSON file holding the tokens (created with mode 0600). */
  path: string;
  /** A lock older than this is considered left by a crashed process and broken (default 120 s: longer than a slow token request). */
  staleLockMs?: number;
  /** How long to wait for the lock before failing with KEFU_TOKEN_LOCK_TIMEOUT (default 60 s). */
  lockTimeoutMs?: number;
}

/** The file stores whose lock the current async context holds (makes the lock re-entrant). */
const heldLocks = new AsyncLocalStorage<ReadonlySet<FileTokenStore>>();

const TokenFileSchema = z.record(z.string(), z.object({ token: z.string().min(1), expiresAt: z.number() }));

/**
 * Keeps tokens in a JSON file (mode 0600) so several processes on one host share one
 * token. Writers take `<path>.lock`, created with O_EXCL; a lock older than
 * `staleLockMs` or held by a dead pid is broken. Writes are atomic (temp file + rename).
 */
export class FileTokenStore implements TokenStore {
  readonly #path: string;
  readonly #lockPath: string;
  readonly #staleLockMs: number;
  readonly #lockTimeoutMs: number;
  // In-process serialization first, so one process never races itself for the file lock.
  readonly #mutex = new KeyedLock();

  /** A store backed by `options.path`. */
  constructor(options: FileTokenStoreOptions) {
    this.#path = options.path;
    this.#lockPath = `${options.path}.lock`;
    this.#staleLockMs = options.staleLockMs ?? 120_000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  }

  /** The file this store writes. */
  get path(): string {
    return this.#path;
  }

  /** The stored token of `appId`. */
  async get(appId: string): Promise<StoredToken | undefined> {
    const token = (await this.#read())[appId];
    if (token) registerSecret(token.token);
    return token;
  }

  /** Stores the token of `appId` (under the file lock). */
  async set(appId: string, token: StoredToken): Promise<void> {
    registerSecret(token.token);
    await this.#withFileLock(async () => {
      const tokens = await this.#read();
      tokens[appId] = token;
      await this.#write(tokens);
    });
  }

  /** Compare-and-delete under the file lock. */
  async invalidate(appId: string, token: string): Promise<boolean> {
    return this.#withFileLock(async () => {
      const tokens = await this.#read();
      if (tokens[appId]?.token !== token) return false;
      delete tokens[appId];
      await this.#write(tokens);
      return true;
    });
  }

  /** Runs `fn` holding the file lock (re-entrant for `set`/`invalidate` called inside). */
  withLock<T>(appId: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(`lock:${appId}`, () => this.#withFileLock(fn));
  }

  async #withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    // Already inside withLock in this async context: the file lock is ours.
    if (heldLocks.getStore()?.has(this)) return fn();
    return this.#mutex.run('file', async () => {
      await this.#acquire();
      try {
        return await heldLocks.run(new Set([...(heldLocks.getStore() ?? []), this]), fn);
      } finally {
        await rm(this.#lockPath, { force: true });
      }
    });
  }

  async #acquire(): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(this.#lockPath, 'wx', 0o600);
        await handle.writeFile(JSON.stringify({ pid: process.pid, at: Date.now() }));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#storeError('lock', error);
      }
      if (await this.#lockIsStale()) {
        await rm(this.#lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw coreError(
          'KEFU_TOKEN_LOCK_TIMEOUT',
          `could not lock ${this.#lockPath} within ${this.#lockTimeoutMs} ms`,
          {
            details: { lockPath: this.#lockPath },
          },
        );
      }
      await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
    }
  }

  async #lockIsStale(): Promise<boolean> {
    try {
      const [info, text] = await Promise.all([stat(this.#lockPath), readFile(this.#lockPath, 'utf8')]);
      if (Date.now() - info.mtimeMs > this.#staleLockMs) return true;
      const pid = Number((JSON.parse(text || '{}') as { pid?: unknown }).pid);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
        } catch (error) {
          // ESRCH: the holder died without removing its lock.
          return (error as NodeJS.ErrnoException).code === 'ESRCH';
        }
      }
      return false;
    } catch {
      // Vanished or half-written lock: try again, without breaking it.
      return false;
    }
  }

  async #read(): Promise<Record<string, StoredToken>> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw this.#storeError('read', error);
    }
    const parsed = TokenFileSchema.safeParse(safeJson(text));
    // A corrupt token file only costs one refresh: treat it as empty.
    return parsed.success ? parsed.data : {};
  }

  async #write(tokens: Record<string, StoredToken>): Promise<void> {
    const temp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(tokens), { mode: 0o600 });
      await rename(temp, this.#path);
    } catch (error) {
      await rm(temp, { force: true });
      throw this.#storeError('write', error);
    }
  }

  #storeError(action: string, error: unknown) {
    if (isKefuError(error)) return error;
    return coreError(
      'KEFU_TOKEN_STORE_FAILED',
      `cannot ${action} token file ${this.#path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
