import { randomBytes } from 'node:crypto';
import { isKefuError, TokenCipher } from '@kefu/core';
import { describeTokenStore, integrationServer } from '@kefu/testkit';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openWorkerPool, PostgresTokenStore } from '../src/index.js';
import { dropTables, queryOnce, uniqueSuffix } from './support/postgres-scratch.js';

/**
 * WeChat access tokens encrypted at rest in the shared PostgreSQL table (AES-256-GCM, key
 * from KEFU_TOKEN_KEY): the table never holds a token in plaintext, rows written before
 * encryption are rewritten on read, a rotated key stays readable through the old keys.
 */

const postgres = await integrationServer('postgres');
const newKey = () => randomBytes(32).toString('base64');
const EXPIRES = 1_900_000_000_000;

async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isKefuError(error) ? error.code : `not a KefuError: ${String(error)}`;
  }
  return 'resolved';
}

describe.skipIf(!postgres.available)('PostgresTokenStore encrypting tokens at rest', () => {
  const table = `kefu_tokens_enc_${uniqueSuffix()}`;
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await dropTables(postgres.url, [table]);
  });
  function openStore(cipher: TokenCipher | undefined): PostgresTokenStore {
    const pool = openWorkerPool(postgres.url);
    pools.push(pool);
    return new PostgresTokenStore({ pool, table, ...(cipher ? { cipher } : {}) });
  }
  /** Every column of every row, as text: what someone reading the table (or a dump) sees. */
  const tableText = async () =>
    JSON.stringify(await queryOnce(postgres.url, `SELECT t::text AS row FROM "${table}" t ORDER BY app_id`));

  it('given tokens set through an encrypting store, then the table holds none of them in plaintext and every process with the key reads them', async () => {
    const key = newKey();
    const [writer, reader] = [openStore(new TokenCipher(key)), openStore(new TokenCipher(key))];
    const tokens = ['ACCESS_TOKEN_one_0123456789', 'ACCESS_TOKEN_two_0123456789'];
    await writer.set('wx-enc-1', { token: tokens[0]!, expiresAt: EXPIRES });
    await writer.set('wx-enc-2', { token: tokens[1]!, expiresAt: EXPIRES });
    const text = await tableText();
    for (const token of tokens) expect(text).not.toContain(token);
    expect(text).toContain('kefu-aes256gcm:v1:');
    expect(await reader.get('wx-enc-1')).toEqual({ token: tokens[0], expiresAt: EXPIRES });
    // Compare-and-delete compares the decrypted token.
    expect(await reader.invalidate('wx-enc-2', 'some-other-token-0000')).toBe(false);
    expect(await reader.invalidate('wx-enc-2', tokens[1]!)).toBe(true);
    expect(await reader.get('wx-enc-2')).toBeUndefined();
  });

  it('given a plaintext row written before encryption, when an encrypting store reads it, then it gets the token and the row is rewritten encrypted', async () => {
    await queryOnce(
      postgres.url,
      `INSERT INTO "${table}" (app_id, token, expires_at) VALUES ('wx-legacy', 'legacy-plain-token-0123456789', $1)`,
      [EXPIRES],
    );
    const store = openStore(new TokenCipher(newKey()));
    expect(await store.get('wx-legacy')).toEqual({ token: 'legacy-plain-token-0123456789', expiresAt: EXPIRES });
    expect(await tableText()).not.toContain('legacy-plain-token-0123456789');
    expect(await store.get('wx-legacy')).toEqual({ token: 'legacy-plain-token-0123456789', expiresAt: EXPIRES });
  });

  it('given a rotated key, when the old key is listed, then old rows are read and re-encrypted with the new key; without it they are KEFU_TOKEN_KEY_MISSING', async () => {
    const [oldKey, currentKey] = [newKey(), newKey()];
    await openStore(new TokenCipher(oldKey)).set('wx-rotate', {
      token: 'token-under-old-key-0123',
      expiresAt: EXPIRES,
    });
    expect(await errorCodeOf(openStore(new TokenCipher(currentKey)).get('wx-rotate'))).toBe('KEFU_TOKEN_KEY_MISSING');
    const rotated = openStore(new TokenCipher(currentKey, [oldKey]));
    expect(await rotated.get('wx-rotate')).toEqual({ token: 'token-under-old-key-0123', expiresAt: EXPIRES });
    // Re-encrypted: the current key alone now reads it.
    expect(await openStore(new TokenCipher(currentKey)).get('wx-rotate')).toEqual({
      token: 'token-under-old-key-0123',
      expiresAt: EXPIRES,
    });
  });

  it('given an encrypted row, when a store without a key reads it, then KEFU_TOKEN_KEY_MISSING names the app id, not the ciphertext', async () => {
    await openStore(new TokenCipher(newKey())).set('wx-nokey', {
      token: 'token-needing-a-key-0123',
      expiresAt: EXPIRES,
    });
    let message = '';
    try {
      await openStore(undefined).get('wx-nokey');
    } catch (error) {
      expect(isKefuError(error) && error.code).toBe('KEFU_TOKEN_KEY_MISSING');
      message = String((error as Error).message);
    }
    expect(message).toContain('wx-nokey');
    expect(message).not.toContain('kefu-aes256gcm');
  });
});

describe.skipIf(!postgres.available)('encrypting PostgresTokenStore conformance', () => {
  describeTokenStore('PostgresTokenStore with a TokenCipher', async () => {
    const table = `kefu_tokens_encconf_${uniqueSuffix()}`;
    const key = newKey();
    const pools: pg.Pool[] = [];
    return {
      open: () => {
        const pool = openWorkerPool(postgres.url);
        pools.push(pool);
        return new PostgresTokenStore({ pool, table, cipher: new TokenCipher(key) });
      },
      sharedAcrossHandles: true,
      teardown: async () => {
        for (const pool of pools) await pool.end();
        await dropTables(postgres.url, [table]);
      },
    };
  });
});
