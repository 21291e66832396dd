import { isSecretConfigKey, looksLikeSecret, redactConfigText, secretValuesInConfigText } from '@kefu/core';
import { describe, expect, it } from 'vitest';

describe('config text redaction', () => {
  it('given config keys, then secret-like ones are recognized (secret, password, token, *key, pass) and plain ones are not', () => {
    for (const key of ['secret', 'clientSecret', 'password', 'token', 'apiKey', 'appKey', 'encodingAesKey', 'pass'])
      expect(isSecretConfigKey(key), key).toBe(true);
    for (const key of ['appId', 'baseUrl', 'url', 'table', 'wechatIds', 'passive'])
      expect(isSecretConfigKey(key), key).toBe(false);
  });

  it('given tokens, then generated keys look secret and words, ids and dates do not', () => {
    expect(looksLikeSecret('45844cacdeadbeef45844cacdeadbeef')).toBe(true);
    expect(looksLikeSecret('Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5')).toBe(true);
    expect(looksLikeSecret('refreshMarginMs')).toBe(false);
    expect(looksLikeSecret('wx1234567890abcdef')).toBe(false);
    expect(looksLikeSecret('kefu_records_2024')).toBe(false);
    expect(looksLikeSecret('abc1')).toBe(false);
  });

  it('given a config text, then values under secret keys and URL passwords are found, flow maps and JSON included', () => {
    const text = [
      'accounts: [{ appId: wx1, secret: s3cr3t-one }]',
      '"password": "pw-two",',
      'url: postgres://kefu:pw%40three@db:5432/kefu',
      'name: visible',
    ].join('\n');
    expect(secretValuesInConfigText(text).sort()).toEqual(['pw%40three', 'pw-two', 'pw@three', 's3cr3t-one'].sort());
  });

  it('given a line with secrets, when redacted, then keys, structure and plain values stay readable', () => {
    expect(redactConfigText('  - { appId: wx1, secret: "abcd-efgh", name: shop }')).toBe(
      '  - { appId: wx1, secret: [redacted], name: shop }',
    );
    expect(redactConfigText('url: mysql://root:hunter2!@127.0.0.1/db')).toBe(
      'url: mysql://root:[redacted]@127.0.0.1/db',
    );
    expect(redactConfigText('- 45844cacdeadbeef45844cacdeadbeef', [])).toBe('- [redacted]');
    expect(redactConfigText('appId: wx1, misplaced', ['misplaced'])).toBe('appId: wx1, [redacted]');
  });

  it('given a URL cut before its @ (a truncated file, a parser quoting the line), then its password is found and redacted, a port is not', () => {
    // Found by the reliability property test: a file truncated inside `url:` showed 12 characters of the password.
    const truncated = 'sinks:\n  - use: db\n    config:\n      url: postgres://kefu:AaaaaaaaaAaA';
    expect(secretValuesInConfigText(truncated)).toEqual(['AaaaaaaaaAaA']);
    expect(redactConfigText('line 22: "      url: postgres://kefu:AaaaaaaaaAaA"')).toBe(
      'line 22: "      url: postgres://kefu:[redacted]"',
    );
    expect(redactConfigText('url: nats://token:0AAaAAA0AAAa')).toBe('url: nats://token:[redacted]');
    expect(redactConfigText('baseUrl: https://api.example.com:8443')).toBe('baseUrl: https://api.example.com:8443');
    expect(secretValuesInConfigText('baseUrl: "https://api.example.com:8443"')).toEqual([]);
  });
});
