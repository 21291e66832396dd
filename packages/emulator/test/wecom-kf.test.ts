import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function call(path: string, init: { method?: string; json?: unknown; query?: Record<string, string> } = {}) {
  const running = emulator as RunningEmulator;
  const url = new URL(`${running.wecom.baseUrl}${path}`);
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value);
  const response = await fetch(url, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function token() {
  const running = emulator as RunningEmulator;
  const answer = await call('/cgi-bin/gettoken', {
    query: { corpid: running.wecom.corpId, corpsecret: running.wecom.secret },
  });
  return String(answer.access_token);
}

describe('the WeCom customer-service platform', () => {
  it('issues tokens per the doc and refuses a wrong secret (40001) or corp (40013)', async () => {
    emulator = await startEmulator({ seed: 'wecom' });
    const answer = await call('/cgi-bin/gettoken', {
      query: { corpid: emulator.wecom.corpId, corpsecret: emulator.wecom.secret },
    });
    expect(answer).toMatchObject({ errcode: 0, expires_in: 7200, access_token: expect.any(String) });
    expect(
      await call('/cgi-bin/gettoken', { query: { corpid: emulator.wecom.corpId, corpsecret: 'x' } }),
    ).toMatchObject({ errcode: 40001 });
    expect(await call('/cgi-bin/gettoken', { query: { corpid: 'ww-other', corpsecret: 'x' } })).toMatchObject({
      errcode: 40013,
    });
    expect(await call('/cgi-bin/kf/sync_msg', { json: {}, query: { access_token: 'nope' } })).toMatchObject({
      errcode: 40014,
    });
  });

  it('pages sync_msg by cursor until has_more = 0, serving every item of the account once', async () => {
    emulator = await startEmulator({ seed: 'wecom', wecom: { messagesPerAccount: 25 } });
    const accessToken = await token();
    const openKfId = emulator.wecom.accounts[0] as string;
    const ids: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await call('/cgi-bin/kf/sync_msg', {
        json: { open_kfid: openKfId, limit: 7, ...(cursor ? { cursor } : {}) },
        query: { access_token: accessToken },
      });
      ids.push(...(page.msg_list as Array<{ msgid: string }>).map((item) => item.msgid));
      cursor = String(page.next_cursor);
      if (page.has_more === 0) break;
    }
    expect(ids).toEqual(emulator.wecom.expectedItems(openKfId).map((item) => item.msgid));
    expect(ids).toHaveLength(25);
  });

  it('refuses an expired or reused callback token with 95007 under the first-page-only reading', async () => {
    emulator = await startEmulator({ seed: 'wecom', wecom: { readings: { tokenReuse: 'first-page-only' } } });
    const accessToken = await token();
    const openKfId = emulator.wecom.accounts[0] as string;
    const { callbackToken } = emulator.wecom.customerMessage(openKfId, '在吗');
    const first = await call('/cgi-bin/kf/sync_msg', {
      json: { open_kfid: openKfId, token: callbackToken, limit: 5 },
      query: { access_token: accessToken },
    });
    expect(first.errcode).toBe(0);
    const again = await call('/cgi-bin/kf/sync_msg', {
      json: { open_kfid: openKfId, token: callbackToken, cursor: first.next_cursor },
      query: { access_token: accessToken },
    });
    expect(again).toMatchObject({ errcode: 95007 });
  });

  it.each(['reject', 'oldest'] as const)(
    'given expiredCursor=%s, when messages age out, then a younger cursor reads on past them and one older than 3 days is refused (50100) or restarts at the oldest message kept',
    async (expiredCursor) => {
      emulator = await startEmulator({
        seed: 'wecom',
        freezeClock: true,
        wecom: { accounts: 1, messagesPerAccount: 10, hours: 48, readings: { expiredCursor } },
      });
      const { wecom, clock } = emulator;
      const openKfId = wecom.accounts[0] as string;
      const sync = async (cursor: unknown) =>
        call('/cgi-bin/kf/sync_msg', {
          json: { open_kfid: openKfId, limit: 4, cursor },
          query: { access_token: await token() },
        });
      const ids = (page: Record<string, unknown>) => (page.msg_list as Array<{ msgid: string }>).map((i) => i.msgid);
      const seeded = wecom.expectedItems(openKfId).map((item) => item.msgid);
      const first = await sync(undefined);
      expect(ids(first)).toEqual(seeded.slice(0, 4));
      // Two days on, the 5th message (sent 26.4 h before the cursor) aged out unread: the cursor still works.
      clock.advance(2 * 86_400_000);
      expect(wecom.expectedItems(openKfId).map((item) => item.msgid)).toEqual(seeded.slice(5));
      expect(ids(await sync(first.next_cursor))).toEqual(seeded.slice(5, 9));
      const later = wecom.customerMessage(openKfId, '三天后还在吗').item;
      // The cursor of the first page is now older than the 3 days.
      clock.advance(86_400_000 + 1);
      const expired = await sync(first.next_cursor);
      if (expiredCursor === 'reject') {
        expect(expired).toMatchObject({ errcode: 50100, errmsg: 'invalid cursor' });
      } else {
        expect(expired).toMatchObject({ errcode: 0, has_more: 0 });
        expect(ids(expired)).toEqual([later.msgid]);
      }
    },
  );
});
