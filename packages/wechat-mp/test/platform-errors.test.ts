import { describe, expect, it } from 'vitest';
import { platformError, requestIdOf } from '../src/errors.js';

const CONTEXT = { call: 'getkflist', appId: 'wx-errors', now: 0 };

describe('platform errors', () => {
  it('given an errmsg with the request id WeChat appends, then the id is read and the message keeps it whole', () => {
    const errmsg = 'invalid credential, access_token is invalid or not latest rid: 6543a1b2-0c1d2e3f-4a5b6c7d';
    expect(requestIdOf(errmsg)).toBe('6543a1b2-0c1d2e3f-4a5b6c7d');
    const error = platformError(40001, errmsg, CONTEXT);
    expect(error.code).toBe('WECHAT_40001');
    expect(error.message).toContain(errmsg);
    expect(error.details).toMatchObject({ errcode: 40001, rid: '6543a1b2-0c1d2e3f-4a5b6c7d' });
  });

  it('given an errmsg without a request id (or the older "hint: [...]"), then no rid is made up', () => {
    expect(requestIdOf('system error')).toBeUndefined();
    expect(requestIdOf('invalid url hint: [Fdd38a0167vr47!]')).toBeUndefined();
    expect(platformError(-1, 'system error', CONTEXT).details).not.toHaveProperty('rid');
  });
});
