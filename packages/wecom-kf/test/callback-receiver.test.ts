import type { PushRequest } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { CallbackTokens, WecomKfCallbackReceiver } from '../src/index.js';
import { readKfCallback } from '../src/wire.js';
import { CALLBACK, encryptedCallback, kfMsgOrEventXml, urlVerification } from './support/wecom-callbacks.js';

const CORP = 'ww0123456789abcdef';

function receiver() {
  const tokens = new CallbackTokens();
  const instance = new WecomKfCallbackReceiver({ ...CALLBACK, corpId: CORP, accounts: ['wkA', 'wkB'], tokens });
  return { receiver: instance, tokens };
}

function request(method: string, query: URLSearchParams, body = ''): PushRequest {
  return { method, subpath: '', query, headers: {}, body: Buffer.from(body), receivedAt: Date.now() };
}

describe('WecomKfCallbackReceiver (wecom-kf.md §5)', () => {
  it('given a URL verification, when msg_signature matches, then it answers the decrypted echostr exactly', async () => {
    const { receiver: r } = receiver();
    const decision = await r.handle(request('GET', urlVerification(CORP, '1616140317555161061')));
    expect(decision).toEqual({ kind: 'reply', answer: { status: 200, body: '1616140317555161061' } });
  });

  it('given a kf_msg_or_event callback, when it decrypts for the corp, then the token is kept and the account pulled, answered with an empty 200', async () => {
    const { receiver: r, tokens } = receiver();
    const { query, body } = encryptedCallback(
      CORP,
      kfMsgOrEventXml(CORP, 'ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR', 'wkB'),
    );
    const decision = await r.handle(request('POST', query, body));
    expect(decision).toEqual({ kind: 'pull', account: 'wkB', answer: { status: 200, body: '' } });
    expect(tokens.current('wkB')).toBe('ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR');
  });

  it('given a callback encrypted for another corp (receiveid), when received, then 403 and no pull', async () => {
    const { receiver: r, tokens } = receiver();
    const { query, body } = encryptedCallback('wwSOMEONEELSE', kfMsgOrEventXml(CORP, 'T', 'wkA'));
    const decision = await r.handle(request('POST', query, body));
    expect(decision).toMatchObject({ kind: 'reject', reason: 'wrong_corpid', answer: { status: 403 } });
    expect(tokens.current('wkA')).toBeUndefined();
  });

  it('given a bad msg_signature, when received, then 401', async () => {
    const { receiver: r } = receiver();
    const { query, body } = encryptedCallback(CORP, kfMsgOrEventXml(CORP, 'T', 'wkA'));
    query.set('msg_signature', '0'.repeat(40));
    expect(await r.handle(request('POST', query, body))).toMatchObject({ kind: 'reject', reason: 'bad_signature' });
  });

  it('given a stale timestamp, when received, then 401 stale_timestamp', async () => {
    const { receiver: r } = receiver();
    const { query, body } = encryptedCallback(CORP, kfMsgOrEventXml(CORP, 'T', 'wkA'), '1348831860');
    expect(await r.handle(request('POST', query, body))).toMatchObject({ kind: 'reject', reason: 'stale_timestamp' });
  });

  it('acknowledges callbacks of accounts it does not serve and other events without pulling', async () => {
    const { receiver: r } = receiver();
    const other = encryptedCallback(CORP, kfMsgOrEventXml(CORP, 'T', 'wkZ'));
    expect(await r.handle(request('POST', other.query, other.body))).toEqual({
      kind: 'reply',
      answer: { status: 200, body: '' },
    });
    const event = encryptedCallback(
      CORP,
      `<xml><ToUserName>${CORP}</ToUserName><MsgType>event</MsgType><Event>change_contact</Event></xml>`,
    );
    expect(await r.handle(request('POST', event.query, event.body))).toMatchObject({ kind: 'reply' });
  });

  it('refuses a kf_msg_or_event without Token or OpenKfId with 400 invalid_callback', async () => {
    expect(() =>
      readKfCallback(
        `<xml><ToUserName>${CORP}</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>kf_msg_or_event</Event></xml>`,
      ),
    ).toThrow(
      expect.objectContaining({ code: 'WECOM_CALLBACK_INVALID', message: expect.stringContaining('Token, OpenKfId') }),
    );
    const { receiver: r } = receiver();
    const { query, body } = encryptedCallback(
      CORP,
      `<xml><ToUserName>${CORP}</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>kf_msg_or_event</Event></xml>`,
    );
    expect(await r.handle(request('POST', query, body))).toMatchObject({ kind: 'reject', reason: 'invalid_callback' });
  });

  it('keeps callback tokens 9 of their 10 minutes and forgets a refused one unless a newer replaced it', () => {
    let now = 0;
    const tokens = new CallbackTokens(() => now);
    tokens.remember('wkA', 'T1');
    now = 8 * 60_000;
    expect(tokens.current('wkA')).toBe('T1');
    tokens.remember('wkA', 'T2');
    tokens.forget('wkA', 'T1');
    expect(tokens.current('wkA')).toBe('T2');
    now += 9 * 60_000;
    expect(tokens.current('wkA')).toBeUndefined();
  });
});
