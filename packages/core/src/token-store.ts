/**
 * The access-token store contract. WeChat (and any platform whose token endpoint
 * invalidates the previous token when it issues a new one) needs every process using an
 * app id to share one token: the store is where it lives. Bind yours under
 * {@link TOKENS.TokenStore} (see `createKefu({ modules })`) and every provider that
 * refreshes tokens uses it; the conformance checks in `@kefu/core/token-store-conformance`
 * (run them with `describeTokenStore` from `@kefu/testkit`) pin the behaviour down.
 */

/** An access token and when it stops being valid (ms since epoch). */
export interface StoredToken {
  token: string;
  expiresAt: number;
}

/**
 * Where access tokens live. Back it with Redis or a central token service to share one
 * token between hosts: `invalidate` must be compare-and-delete, and `withLock` (when
 * present) must exclude every other refresher of the same app id, so only one of them
 * calls the token endpoint (refreshing invalidates the others' token, API-NOTES).
 * Tokens are secrets: implementations register each token they read or write with
 * `registerSecret`, so it never reaches a log line.
 */
export interface TokenStore {
  /** The stored token of `appId`, if any (expired ones may be returned; the manager checks). */
  get(appId: string): Promise<StoredToken | undefined>;
  /** Stores the token of `appId`. */
  set(appId: string, token: StoredToken): Promise<void>;
  /** Deletes the token of `appId` only if it is still `token`; true when it deleted it. */
  invalidate(appId: string, token: string): Promise<boolean>;
  /**
   * Runs `fn` while holding the refresh lock of `appId`. Re-entrant: `set` and
   * `invalidate` called inside `fn` must not wait for the lock `fn` already holds.
   */
  withLock?<T>(appId: string, fn: () => Promise<T>): Promise<T>;
}

/** True when `value` has the methods of a {@link TokenStore}. */
export function isTokenStore(value: unknown): value is TokenStore {
  const candidate = value as Partial<TokenStore> | null | undefined;
  return (
    typeof candidate?.get === 'function' &&
    typeof candidate.set === 'function' &&
    typeof candidate.invalidate === 'function' &&
    (candidate.withLock === undefined || typeof candidate.withLock === 'function')
  );
}
