import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { coreError } from './errors.js';
import { registerSecret } from './redaction.js';

/**
 * Access tokens at rest: AES-256-GCM with a key from the environment, so a token table
 * (PostgreSQL, a file, Redis) read by someone without the key holds nothing usable.
 * Every value carries the id of its key (a hash prefix, not the key), so a rotated key
 * stays readable through the list of old keys, and the app id as associated data, so a
 * ciphertext moved to another app id's row fails instead of decrypting.
 */

/** Prefix of an encrypted value; anything else is a plaintext token from before encryption. */
const PREFIX = 'kefu-aes256gcm:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The environment variables the key and the rotated-out keys are read from. */
export const TOKEN_KEY_ENV = 'KEFU_TOKEN_KEY';
/** Comma-separated keys that were KEFU_TOKEN_KEY before a rotation: read, never written. */
export const TOKEN_OLD_KEYS_ENV = 'KEFU_TOKEN_OLD_KEYS';

interface TokenKey {
  id: string;
  key: Buffer;
}

/** What {@link TokenCipher.decrypt} found: the token, and whether its row should be rewritten. */
export interface DecryptedToken {
  token: string;
  /** The stored value was plaintext or used an old key: write it back encrypted with the current key. */
  stale: boolean;
}

/**
 * Encrypts and decrypts access tokens with AES-256-GCM.
 *
 * @example
 * ```ts
 * const cipher = TokenCipher.fromEnv(process.env); // undefined when KEFU_TOKEN_KEY is unset
 * const stored = cipher.encrypt('wx123', token);
 * const { token: plain, stale } = cipher.decrypt('wx123', stored);
 * ```
 */
export class TokenCipher {
  readonly #current: TokenKey;
  readonly #byId: Map<string, TokenKey>;

  /** `key` encrypts and decrypts; `oldKeys` only decrypt (values written before a rotation). */
  constructor(key: string, oldKeys: readonly string[] = []) {
    this.#current = parseKey(key, TOKEN_KEY_ENV);
    this.#byId = new Map(
      [this.#current, ...oldKeys.map((old) => parseKey(old, TOKEN_OLD_KEYS_ENV))].map((k) => [k.id, k]),
    );
  }

  /**
   * The cipher configured by KEFU_TOKEN_KEY (and KEFU_TOKEN_OLD_KEYS), or undefined when
   * the key is unset. The keys are registered as secrets.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): TokenCipher | undefined {
    const key = env[TOKEN_KEY_ENV]?.trim();
    if (!key) return undefined;
    const old = (env[TOKEN_OLD_KEYS_ENV] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    return new TokenCipher(key, old);
  }

  /**
   * Like {@link fromEnv}, but a missing key is KEFU_TOKEN_KEY_MISSING: for stores that
   * must not write tokens in plaintext. `store` names the store in the message.
   */
  static requireFromEnv(env: Readonly<Record<string, string | undefined>>, store: string): TokenCipher {
    const cipher = TokenCipher.fromEnv(env);
    if (cipher) return cipher;
    throw coreError(
      'KEFU_TOKEN_KEY_MISSING',
      `${store} stores access tokens encrypted and ${TOKEN_KEY_ENV} is not set: generate a key with \`openssl rand -base64 32\` and export it as ${TOKEN_KEY_ENV} in every process sharing the store`,
    );
  }

  /** True when `stored` was written by a TokenCipher (of any key). */
  static isEncrypted(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  /** `token` encrypted for the row of `appId`: `kefu-aes256gcm:v1:<key id>:<base64 iv|tag|ciphertext>`. */
  encrypt(appId: string, token: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv);
    cipher.setAAD(Buffer.from(appId, 'utf8'));
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.#current.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** The token in `stored` (the row of `appId`); plaintext passes through, marked stale. */
  decrypt(appId: string, stored: string): DecryptedToken {
    if (!TokenCipher.isEncrypted(stored)) {
      registerSecret(stored);
      return { token: stored, stale: true };
    }
    const [keyId = '', payload = ''] = stored.slice(PREFIX.length).split(':');
    const key = this.#byId.get(keyId);
    if (!key) {
      throw coreError(
        'KEFU_TOKEN_KEY_MISSING',
        `the stored token of ${appId} was encrypted with key ${keyId}, which is neither ${TOKEN_KEY_ENV} nor in ${TOKEN_OLD_KEYS_ENV}`,
        { details: { appId, keyId } },
      );
    }
    const raw = Buffer.from(payload, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(appId, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const token = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
      registerSecret(token);
      return { token, stale: key !== this.#current };
    } catch (cause) {
      throw coreError('KEFU_TOKEN_DECRYPT_FAILED', `the stored token of ${appId} did not decrypt with key ${keyId}`, {
        cause,
        details: { appId, keyId },
      });
    }
  }
}

/** A 32-byte key from base64 (44 characters) or hex (64 characters); its id is a hash prefix. */
function parseKey(text: string, source: string): TokenKey {
  const trimmed = text.trim();
  registerSecret(trimmed);
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(trimmed) && key.toString('base64') !== trimmed)) {
    throw coreError(
      'KEFU_TOKEN_KEY_INVALID',
      `${source} must be 32 bytes in base64 (44 characters) or hex (64 characters); generate one with \`openssl rand -base64 32\``,
    );
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}
