import { createHash } from 'node:crypto';
import { WechatErrcode } from './wechat-errcodes.js';

/**
 * Access tokens with the documented semantics (API-NOTES): `/cgi-bin/token` issues a new
 * token on every fetch and the previous one keeps working for an overlap (5 min) only;
 * `/cgi-bin/stable_token` returns the same token until < 5 min before expiry, and
 * `force_refresh` replaces it at once (≥ 30 s apart, 20 per day → 45009). The two kinds
 * are isolated from each other.
 */

/** Token timing knobs. */
export interface TokenTimings {
  expiresInSeconds: number;
  overlapSeconds: number;
}

interface TokenState {
  account: number;
  kind: 'basic' | 'stable';
  expiresAt: number;
  /** Set when superseded: the token stops working at this time. */
  invalidAfter?: number;
}

/** The outcome of checking a token: the account it belongs to, or an errcode. */
export type TokenCheck = { account: number } | { errcode: number };

const STABLE_REFRESH_MARGIN_MS = 5 * 60_000;
const FORCE_REFRESH_MIN_GAP_MS = 30_000;
const FORCE_REFRESHES_PER_DAY = 20;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,512}$/;

/** The token authority of the emulated WeChat platform. */
export class TokenAuthority {
  readonly #tokens = new Map<string, TokenState>();
  readonly #currentBasic = new Map<number, string>();
  readonly #currentStable = new Map<number, string>();
  readonly #forceRefreshes = new Map<number, number[]>();
  readonly #seed: string;
  readonly #timings: TokenTimings;
  #issued = 0;

  constructor(seed: string, timings: TokenTimings) {
    this.#seed = seed;
    this.#timings = timings;
  }

  /** `/cgi-bin/token`: a new token; the previous one stops working after the overlap. */
  issueBasic(account: number, now: number): { access_token: string; expires_in: number } {
    const previous = this.#currentBasic.get(account);
    const previousState = previous ? this.#tokens.get(previous) : undefined;
    if (previousState && previousState.invalidAfter === undefined) {
      previousState.invalidAfter = now + this.#timings.overlapSeconds * 1000;
    }
    const token = this.#mint(account, 'basic', now);
    this.#currentBasic.set(account, token);
    return { access_token: token, expires_in: this.#timings.expiresInSeconds };
  }

  /** `/cgi-bin/stable_token`: the same token while it has ≥ 5 min left, a new one on force refresh. */
  issueStable(
    account: number,
    now: number,
    forceRefresh: boolean,
  ): { access_token: string; expires_in: number } | { errcode: number } {
    const current = this.#currentStable.get(account);
    const state = current ? this.#tokens.get(current) : undefined;
    const usable = state && state.invalidAfter === undefined && state.expiresAt - now > STABLE_REFRESH_MARGIN_MS;
    if (current && state && usable && !forceRefresh) {
      return { access_token: current, expires_in: Math.floor((state.expiresAt - now) / 1000) };
    }
    if (forceRefresh) {
      const history = (this.#forceRefreshes.get(account) ?? []).filter((at) => now - at < 86_400_000);
      const last = history.at(-1);
      if (history.length >= FORCE_REFRESHES_PER_DAY || (last !== undefined && now - last < FORCE_REFRESH_MIN_GAP_MS)) {
        return { errcode: WechatErrcode.dailyQuota };
      }
      history.push(now);
      this.#forceRefreshes.set(account, history);
    }
    // A forced (or due) refresh invalidates the old stable token at once: no overlap.
    if (state) state.invalidAfter = now;
    const token = this.#mint(account, 'stable', now);
    this.#currentStable.set(account, token);
    return { access_token: token, expires_in: this.#timings.expiresInSeconds };
  }

  /** Checks the `access_token` of an API call. */
  check(token: string | null, now: number): TokenCheck {
    if (!token) return { errcode: WechatErrcode.missingAccessToken };
    const state = this.#tokens.get(token);
    if (!state)
      return { errcode: TOKEN_SHAPE.test(token) ? WechatErrcode.invalidCredential : WechatErrcode.invalidAccessToken };
    if (state.invalidAfter !== undefined && now >= state.invalidAfter)
      return { errcode: WechatErrcode.invalidCredential };
    if (now >= state.expiresAt) return { errcode: WechatErrcode.expiredAccessToken };
    return { account: state.account };
  }

  /** Revokes a token at once (fault injection: the platform invalidated it). */
  revoke(token: string, now: number): void {
    const state = this.#tokens.get(token);
    if (state) state.invalidAfter = now;
  }

  /** Revokes every token of an account at once (later calls answer 40001); returns how many were live. */
  revokeAccount(account: number, now: number): number {
    return this.#endAccountTokens(account, now, (state) => {
      state.invalidAfter = now;
    });
  }

  /** Expires every token of an account now (later calls answer 42001); returns how many were live. */
  expireAccount(account: number, now: number): number {
    return this.#endAccountTokens(account, now, (state) => {
      state.expiresAt = now;
    });
  }

  #endAccountTokens(account: number, now: number, end: (state: TokenState) => void): number {
    let ended = 0;
    for (const state of this.#tokens.values()) {
      const live = state.account === account && now < state.expiresAt && (state.invalidAfter ?? now + 1) > now;
      if (!live) continue;
      end(state);
      ended++;
    }
    return ended;
  }

  #mint(account: number, kind: 'basic' | 'stable', now: number): string {
    const n = ++this.#issued;
    // Real tokens are long opaque [A-Za-z0-9_-] strings; these are deterministic per seed and issue order.
    const token = [0, 1, 2, 3]
      .map((part) =>
        createHash('sha256')
          .update(`${this.#seed}\u0000${kind}\u0000${account}\u0000${n}\u0000${part}`)
          .digest('base64url'),
      )
      .join('')
      .slice(0, 136);
    this.#tokens.set(token, { account, kind, expiresAt: now + this.#timings.expiresInSeconds * 1000 });
    return token;
  }
}
