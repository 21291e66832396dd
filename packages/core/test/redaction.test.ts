import { createJsonLogger, isSensitiveName, maskSecret, redactText, redactValue, registerSecret } from '@kefu/core';
import { describe, expect, it } from 'vitest';

describe('redaction', () => {
  it('replaces a registered secret and its URL-encoded form anywhere in text', () => {
    registerSecret('p@ss/word+1');
    expect(redactText('a p@ss/word+1 b')).toBe('a [redacted] b');
    expect(redactText(`url?x=${encodeURIComponent('p@ss/word+1')}`)).toBe('url?x=[redacted]');
  });

  it('redacts values of sensitive query parameters without registration', () => {
    const url = 'https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=s1&access_token=t1';
    expect(redactText(url)).toBe(
      'https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=[redacted]&access_token=[redacted]',
    );
  });

  it('redacts sensitive keys in objects, deeply, and leaves other values', () => {
    expect(
      redactValue({ headers: { Authorization: 'Bearer x', accept: 'json' }, nested: [{ client_secret: 'y' }] }),
    ).toEqual({ headers: { Authorization: '[redacted]', accept: 'json' }, nested: [{ client_secret: '[redacted]' }] });
  });

  it('ignores secrets too short to redact safely', () => {
    registerSecret('ab');
    expect(redactText('ab cd')).toBe('ab cd');
  });

  it('keeps secrets out of logger lines', () => {
    registerSecret('logger-secret-xyz');
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line) }).child({ token: 'child-token' });
    logger.info('calling with logger-secret-xyz', { url: '/x?access_token=zzz', appSecret: 'plain' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/logger-secret-xyz|child-token|zzz|plain/);
  });

  it('names sensitive fields and masks secrets for display', () => {
    expect(['access_token', 'Authorization', 'appSecret', 'api-key', 'sign'].every(isSensitiveName)).toBe(true);
    expect(['appid', 'url', 'account'].some(isSensitiveName)).toBe(false);
  });

  it('given an address whose name mentions a token (tokenUrl), then it is shown; a token query parameter inside it is not', () => {
    expect(['tokenUrl', 'token_endpoint', 'v1TokenPath', 'secretUri'].some(isSensitiveName)).toBe(false);
    expect(redactValue({ tokenUrl: 'https://sso.example/connect/token' })).toEqual({
      tokenUrl: 'https://sso.example/connect/token',
    });
    expect(redactText('GET https://sso.example/connect/token?access_token=abc123')).toBe(
      'GET https://sso.example/connect/token?access_token=[redacted]',
    );
    expect(maskSecret('abcdefgh')).toBe('ab…(8)');
    expect(maskSecret('abc')).toBe('****');
  });
});
