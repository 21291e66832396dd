import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signKefuPayload, verifyKefuSignature } from '../src/index.js';

const secret = 'whsec-0123456789abcdef';
const body = '[{"id":"r1","text":"你好"}]';
const now = 1_780_000_000_000;
const timestamp = String(now / 1000);

describe('webhook signature', () => {
  it('is the documented recipe: sha256= hex HMAC-SHA256(secret, timestamp + "." + body)', () => {
    const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    expect(signKefuPayload({ secret, timestamp, body })).toBe(`sha256=${expected}`);
  });

  it('verifies a genuine request, from string or bytes', () => {
    const signature = signKefuPayload({ secret, timestamp, body });
    expect(verifyKefuSignature({ secret, timestamp, body, signature, now })).toBe(true);
    expect(verifyKefuSignature({ secret, timestamp, body: Buffer.from(body), signature, now })).toBe(true);
  });

  it('rejects a tampered body, a wrong secret, a shifted timestamp and malformed headers', () => {
    const signature = signKefuPayload({ secret, timestamp, body });
    const tampered = body.replace('你好', '您好');
    expect(verifyKefuSignature({ secret, timestamp, body: tampered, signature, now })).toBe(false);
    expect(verifyKefuSignature({ secret: `${secret}x`, timestamp, body, signature, now })).toBe(false);
    expect(verifyKefuSignature({ secret, timestamp: String(Number(timestamp) + 1), body, signature, now })).toBe(false);
    expect(verifyKefuSignature({ secret, timestamp, body, signature: signature.slice(0, -2), now })).toBe(false);
    expect(verifyKefuSignature({ secret, timestamp, body, signature: undefined, now })).toBe(false);
    expect(verifyKefuSignature({ secret, timestamp: 'yesterday', body, signature, now })).toBe(false);
  });

  it('rejects replays outside the tolerance window, in both directions', () => {
    const old = String(now / 1000 - 301);
    const future = String(now / 1000 + 301);
    for (const ts of [old, future]) {
      const signature = signKefuPayload({ secret, timestamp: ts, body });
      expect(verifyKefuSignature({ secret, timestamp: ts, body, signature, now })).toBe(false);
      expect(verifyKefuSignature({ secret, timestamp: ts, body, signature, now, toleranceSeconds: 400 })).toBe(true);
    }
  });
});
