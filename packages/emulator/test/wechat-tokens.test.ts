import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import { call, tokenFor } from './wechat-support.js';

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
let emulator: RunningEmulator;

beforeEach(async () => {
  emulator = await startEmulator({ seed: 'tokens', now: NOW, wechat: { agentsPerAccount: 2, customers: 20 } });
});
afterEach(async () => {
  await emulator.stop();
});

const kfList = (token?: string) =>
  call(emulator, 'GET', '/cgi-bin/customservice/getkflist', token === undefined ? {} : { token });
const stable = (body: Record<string, unknown>) => call(emulator, 'POST', '/cgi-bin/stable_token', { json: body });

describe('WeChat /cgi-bin/token', () => {
  it('given valid credentials, when fetching a token, then it answers a token and expires_in 7200 as JSON', async () => {
    const account = emulator.wechat.accounts[0]!;
    const answer = await call(emulator, 'GET', '/cgi-bin/token', {
      query: { grant_type: 'client_credential', appid: account.appId, secret: account.secret },
    });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('application/json');
    expect(answer.body.access_token).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(answer.body.expires_in).toBe(7200);
  });

  it('given bad grant_type, appid or secret, then it answers 40002, 40013, 40125 with HTTP 200', async () => {
    const account = emulator.wechat.accounts[0]!;
    const fetch = (query: Record<string, string>) => call(emulator, 'GET', '/cgi-bin/token', { query });
    const badGrant = await fetch({ grant_type: 'password', appid: account.appId, secret: account.secret });
    const badAppid = await fetch({ grant_type: 'client_credential', appid: 'wx0000', secret: account.secret });
    const badSecret = await fetch({ grant_type: 'client_credential', appid: account.appId, secret: 'nope' });
    expect([badGrant.status, badGrant.body.errcode]).toEqual([200, 40002]);
    expect(badAppid.body.errcode).toBe(40013);
    expect(badSecret.body.errcode).toBe(40125);
    expect(typeof badSecret.body.errmsg).toBe('string');
  });

  it('given a second fetch, then the first token works during the 5 min overlap and fails with 40001 after it', async () => {
    const first = await tokenFor(emulator);
    const second = await tokenFor(emulator);
    expect(second).not.toBe(first);
    expect((await kfList(first)).body.kf_list).toHaveLength(2);
    emulator.clock.advance(4 * 60_000);
    expect((await kfList(first)).body.kf_list).toHaveLength(2);
    emulator.clock.advance(61_000);
    expect((await kfList(first)).body.errcode).toBe(40001);
    expect((await kfList(second)).body.kf_list).toHaveLength(2);
  });

  it('given a token older than expires_in, then calls answer 42001', async () => {
    const token = await tokenFor(emulator);
    emulator.clock.advance(7200_000);
    expect((await kfList(token)).body.errcode).toBe(42001);
  });

  it('given a configured token lifetime, then expires_in follows it', async () => {
    const short = await startEmulator({ seed: 'tokens', now: NOW, wechat: { tokenExpiresInSeconds: 60 } });
    try {
      const account = short.wechat.accounts[0]!;
      const answer = await call(short, 'GET', '/cgi-bin/token', {
        query: { grant_type: 'client_credential', appid: account.appId, secret: account.secret },
      });
      expect(answer.body.expires_in).toBe(60);
    } finally {
      await short.stop();
    }
  });

  it('given no, an unknown or a malformed access_token, then calls answer 41001, 40001 and 40014', async () => {
    expect((await kfList()).body.errcode).toBe(41001);
    expect((await kfList('A'.repeat(136))).body.errcode).toBe(40001);
    expect((await kfList('not a token!')).body.errcode).toBe(40014);
  });
});

describe('WeChat /cgi-bin/stable_token', () => {
  const credentials = () => {
    const account = emulator.wechat.accounts[0]!;
    return { grant_type: 'client_credential', appid: account.appId, secret: account.secret };
  };

  it('given repeated normal calls, then it returns the same token with a decreasing expires_in', async () => {
    const first = await stable(credentials());
    emulator.clock.advance(600_000);
    const second = await stable({ ...credentials(), unknown_field: 'ignored' });
    expect(second.body.access_token).toBe(first.body.access_token);
    expect(first.body.expires_in).toBe(7200);
    expect(second.body.expires_in).toBeLessThanOrEqual(6600);
  });

  it('given less than 5 min left, then a normal call issues a new token', async () => {
    const first = await stable(credentials());
    emulator.clock.advance((7200 - 299) * 1000);
    const second = await stable(credentials());
    expect(second.body.access_token).not.toBe(first.body.access_token);
  });

  it('given force_refresh, then a new token replaces the old one at once', async () => {
    const first = await stable(credentials());
    const forced = await stable({ ...credentials(), force_refresh: true });
    expect(forced.body.access_token).not.toBe(first.body.access_token);
    expect((await kfList(first.body.access_token)).body.errcode).toBe(40001);
    expect((await kfList(forced.body.access_token)).body.kf_list).toEqual(expect.any(Array));
  });

  it('given force refreshes less than 30 s apart or more than 20 a day, then it answers 45009', async () => {
    expect((await stable({ ...credentials(), force_refresh: true })).body.access_token).toMatch(/^\S+$/);
    expect((await stable({ ...credentials(), force_refresh: true })).body.errcode).toBe(45009);
    for (let i = 1; i < 20; i++) {
      emulator.clock.advance(31_000);
      expect((await stable({ ...credentials(), force_refresh: true })).body.access_token).toMatch(/^\S+$/);
    }
    emulator.clock.advance(31_000);
    expect((await stable({ ...credentials(), force_refresh: true })).body.errcode).toBe(45009);
  });

  it('given stable and basic tokens, then fetching a basic token does not invalidate the stable one', async () => {
    const stableToken = (await stable(credentials())).body.access_token;
    await tokenFor(emulator);
    await tokenFor(emulator);
    emulator.clock.advance(301_000);
    expect((await kfList(stableToken)).body.kf_list).toEqual(expect.any(Array));
  });

  it('given bad credentials or a non-JSON body, then it answers 40125, 40013, 40002 or 47001', async () => {
    expect((await stable({ ...credentials(), secret: 'wrong' })).body.errcode).toBe(40125);
    expect((await stable({ ...credentials(), appid: 'wx1' })).body.errcode).toBe(40013);
    expect((await stable({ ...credentials(), grant_type: 'x' })).body.errcode).toBe(40002);
    expect((await call(emulator, 'POST', '/cgi-bin/stable_token', { rawBody: '{oops' })).body.errcode).toBe(47001);
  });
});
