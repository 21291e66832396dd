import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Youmi authentication: v2 OAuth2 client-credentials bearer tokens and the v1
 * HMAC-SHA1 signature scheme (see API-NOTES "Youmi open API").
 */

/** Why a bearer token was refused. */
export type TokenRejection = 'missing' | 'unknown' | 'expired' | 'revoked';

interface IssuedToken {
  expiresAt: number;
  revoked: boolean;
}

/** Issues and checks opaque access tokens against the emulator clock. */
export class AccessTokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(private readonly now: () => number) {}

  /** Issues a new token valid for `lifetimeSeconds`; earlier tokens stay valid (OAuth2 style). */
  issue(lifetimeSeconds: number): string {
    // Not registered with registerSecret: the client that receives it does that, and a
    // process-wide registry growing with every token (revokeTokenEveryCalls: 1) would slow redaction.
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expiresAt: this.now() + lifetimeSeconds * 1000, revoked: false });
    this.prune();
    return token;
  }

  /** Checks a token; undefined when it is valid. */
  check(token: string | undefined): TokenRejection | undefined {
    if (!token) return 'missing';
    const issued = this.tokens.get(token);
    if (!issued) return 'unknown';
    if (issued.revoked) return 'revoked';
    if (this.now() >= issued.expiresAt) return 'expired';
    return undefined;
  }

  /** Revokes a token (fault injection: `revokeTokenEveryCalls`). */
  revoke(token: string): void {
    const issued = this.tokens.get(token);
    if (issued) issued.revoked = true;
  }

  /** Revokes every token issued so far; returns how many were still valid. */
  revokeAll(): number {
    let revoked = 0;
    for (const issued of this.tokens.values()) {
      if (!issued.revoked && this.now() < issued.expiresAt) revoked += 1;
      issued.revoked = true;
    }
    return revoked;
  }

  // Bounded memory: forget tokens long past expiry.
  private prune(): void {
    if (this.tokens.size < 1000) return;
    const horizon = this.now() - 86_400_000;
    for (const [token, issued] of this.tokens) if (issued.expiresAt < horizon) this.tokens.delete(token);
  }
}

/** Extracts the token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^\s*Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/**
 * The v1 signature (§1.2 生成signature): UrlEncode(Base64(HMAC-SHA1(appKey, message))), where
 * the message is AppId + Nonce + Timestamp for the token call and access_token + Nonce +
 * Timestamp for data calls.
 */
export function youmiV1Signature(appKey: string, message: string): string {
  return encodeURIComponent(createHmac('sha1', appKey).update(message, 'utf8').digest('base64'));
}

/**
 * Whether a sent v1 signature is right. The doc's text URL-encodes it (its example ends in
 * a lower-case `%3d`, as .NET writes it) while its .NET reference code does not: both the
 * encoded form (either hex case) and the bare Base64 are accepted.
 */
export function v1SignatureMatches(appKey: string, message: string, sent: string): boolean {
  const expected = createHmac('sha1', appKey).update(message, 'utf8').digest('base64');
  let decoded = sent;
  try {
    decoded = decodeURIComponent(sent);
  } catch {
    // Not URL-encoded (a bare Base64 with a stray %): compare it as sent.
  }
  return signaturesMatch(expected, decoded) || signaturesMatch(expected, sent);
}

/** Compares signatures without leaking timing. */
export function signaturesMatch(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The v1 replay window: requests whose Timestamp is further than this from now are refused (200005). */
export const V1_TIMESTAMP_WINDOW_SECONDS = 600;
