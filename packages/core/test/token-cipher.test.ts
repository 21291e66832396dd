import { randomBytes } from 'node:crypto';
import { isKefuError, redactText, TokenCipher } from '@kefu/core';
import { describe, expect, it } from 'vitest';

const newKey = () => randomBytes(32).toString('base64');
const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return isKefuError(error) ? error.code : 'not a KefuError';
  }
  return undefined;
};

describe('access tokens encrypted at rest (AES-256-GCM)', () => {
  it('given a key, when a token is encrypted and decrypted, then it round-trips and the stored value holds no plaintext', () => {
    const cipher = new TokenCipher(newKey());
    const stored = cipher.encrypt('wx-app-1', 'ACCESS_TOKEN_abcdefghijklmnop');
    expect(stored).not.toContain('ACCESS_TOKEN');
    expect(TokenCipher.isEncrypted(stored)).toBe(true);
    expect(cipher.decrypt('wx-app-1', stored)).toEqual({ token: 'ACCESS_TOKEN_abcdefghijklmnop', stale: false });
    // A fresh IV each time: equal tokens do not give equal rows.
    expect(cipher.encrypt('wx-app-1', 'ACCESS_TOKEN_abcdefghijklmnop')).not.toBe(stored);
  });

  it('given a plaintext row from before encryption, then it is read as is and marked stale for rewriting', () => {
    expect(new TokenCipher(newKey()).decrypt('wx', 'plain-token-1234567890')).toEqual({
      token: 'plain-token-1234567890',
      stale: true,
    });
  });

  it('given a rotated key, when the old one is listed, then old rows decrypt (stale) and new rows use the new key', () => {
    const oldKey = newKey();
    const stored = new TokenCipher(oldKey).encrypt('wx', 'token-from-before-rotation');
    const rotated = TokenCipher.fromEnv({ KEFU_TOKEN_KEY: newKey(), KEFU_TOKEN_OLD_KEYS: ` ${oldKey} ,` });
    expect(rotated?.decrypt('wx', stored)).toEqual({ token: 'token-from-before-rotation', stale: true });
    expect(codeOf(() => new TokenCipher(newKey()).decrypt('wx', stored))).toBe('KEFU_TOKEN_KEY_MISSING');
  });

  it('given a ciphertext moved to another app id or altered, then it fails with KEFU_TOKEN_DECRYPT_FAILED', () => {
    const cipher = new TokenCipher(newKey());
    const stored = cipher.encrypt('wx-a', 'token-of-app-a-123456');
    expect(codeOf(() => cipher.decrypt('wx-b', stored))).toBe('KEFU_TOKEN_DECRYPT_FAILED');
    const flipped = `${stored.slice(0, -4)}${stored.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(codeOf(() => cipher.decrypt('wx-a', flipped))).toBe('KEFU_TOKEN_DECRYPT_FAILED');
  });

  it('given no key or a malformed one, then the errors are typed and never quote the key', () => {
    expect(TokenCipher.fromEnv({})).toBeUndefined();
    expect(codeOf(() => TokenCipher.requireFromEnv({}, 'the PostgreSQL token store'))).toBe('KEFU_TOKEN_KEY_MISSING');
    const short = 'c2hvcnQta2V5LXNlY3JldC12YWx1ZQ==';
    let message = '';
    try {
      TokenCipher.fromEnv({ KEFU_TOKEN_KEY: short });
    } catch (error) {
      expect(isKefuError(error) && error.code).toBe('KEFU_TOKEN_KEY_INVALID');
      message = String((error as Error).message);
    }
    expect(message).not.toContain(short);
    const hex = randomBytes(32).toString('hex');
    expect(TokenCipher.fromEnv({ KEFU_TOKEN_KEY: hex })).toBeInstanceOf(TokenCipher);
    expect(redactText(`key ${hex}`)).not.toContain(hex);
  });
});
