import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BUNDLED_PLUGINS, type RunningServe, startServe } from '@kefu/cli';
import { createKefu, type Kefu, silentLogger } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { WechatCallbackCrypto } from '@kefu/wechat-crypto';
import type { WecomKfProvider } from '@kefu/wecom-kf';
import { afterEach, describe, expect, it } from 'vitest';

// startServe in-process with the WeCom kf provider against the emulator's WeCom platform: first
// the test plays WeCom's callback sender by hand (the doc's kf_msg_or_event, encrypted for the
// corp, and a foreign corp refused), then the emulator rings itself under each callback knob.

const CALLBACK = { token: 'QDG6eK', encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C' };

let emulator: RunningEmulator | undefined;
let kefu: Kefu | undefined;
let serve: RunningServe | undefined;
let dir: string | undefined;
afterEach(async () => {
  await serve?.close();
  await kefu?.close();
  await emulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  serve = kefu = emulator = dir = undefined;
});

/** The query and body of a callback encrypted for `receiveId` (wecom-kf.md §5.2). */
function encrypted(receiveId: string, plaintext: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const reply = new WechatCallbackCrypto({ receiveId, ...CALLBACK }).encryptReply(plaintext, {
    nonce: '1372623149',
    timestamp,
  });
  return {
    query: new URLSearchParams({ msg_signature: reply.msgSignature, timestamp, nonce: reply.nonce }),
    encrypt: reply.encrypt,
    body: `<xml><ToUserName><![CDATA[${receiveId}]]></ToUserName><AgentID>1000002</AgentID><Encrypt><![CDATA[${reply.encrypt}]]></Encrypt></xml>`,
  };
}

function kfMsgOrEvent(corpId: string, token: string, openKfId: string) {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`;
}

describe('kefu serve with the WeCom kf_msg_or_event callback', () => {
  it('given the callback URL, when WeCom rings, then the pull reads sync_msg with its token from the backfill cursor, archives media, and stores sent messages too', async () => {
    emulator = await startEmulator({
      seed: 'serve-wecom',
      wecom: { accounts: 1, messagesPerAccount: 5, readings: { tokenReuse: 'first-page-only' } },
    });
    const { wecom } = emulator;
    const openKfId = wecom.accounts[0] as string;
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-wecom-'));
    kefu = await createKefu({
      providers: [
        {
          use: '@kefu/wecom-kf',
          id: 'kf',
          config: {
            corpId: wecom.corpId,
            secret: wecom.secret,
            accounts: [{ openKfId }],
            baseUrl: wecom.baseUrl,
            callback: CALLBACK,
            pageSize: 2,
          },
        },
      ],
      sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: join(dir, 'kefu.db') } }],
      logger: silentLogger,
      bundledPlugins: BUNDLED_PLUGINS,
    });
    serve = await startServe({
      kefu,
      baseDir: dir,
      port: 0,
      serve: {
        spool: { path: 'spool.sqlite' },
        backfill: { intervalSeconds: 3600, lookback: '3d' },
        media: { dir: 'media' },
      },
    });
    const running = serve;
    const url = `${running.url}/wecom-kf/${wecom.corpId}`;
    const rows = () => {
      const db = new DatabaseSync(join(dir as string, 'kefu.db'), { readOnly: true });
      try {
        return (db.prepare('SELECT id FROM kefu_records ORDER BY id').all() as { id: string }[]).map((row) => row.id);
      } finally {
        db.close();
      }
    };
    await expect.poll(() => running.backfillRounds(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(5);

    // URL verification: msg_signature over the encrypted echostr, answered with its plaintext exactly.
    const echo = encrypted(wecom.corpId, 'echo-4711');
    const verify = new URLSearchParams({
      msg_signature: echo.query.get('msg_signature') ?? '',
      timestamp: echo.query.get('timestamp') ?? '',
      nonce: echo.query.get('nonce') ?? '',
      echostr: echo.encrypt,
    });
    expect(await (await fetch(`${url}?${verify}`)).text()).toBe('echo-4711');

    // A customer writes (text, then an image); WeCom rings once with the newest token.
    wecom.customerMessage(openKfId, '在吗');
    const { item: image, callbackToken } = wecom.customerMessage(openKfId, '', Buffer.from('a jpeg of the customer'));
    const before = emulator.requests.count({ path: '/wecom-kf/cgi-bin/kf/sync_msg' });
    const callback = encrypted(wecom.corpId, kfMsgOrEvent(wecom.corpId, callbackToken, openKfId));
    const answer = await fetch(`${url}?${callback.query}`, { method: 'POST', body: callback.body });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('');
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(7);
    // One cursor: the pull went on from the backfill's checkpoint (one page of 2, not the 4 pages from the start), with the callback's token.
    expect(emulator.requests.count({ path: '/wecom-kf/cgi-bin/kf/sync_msg' }) - before).toBe(1);
    expect(wecom.callbackTokenUses(callbackToken)).toBe(1);

    // The pulled image is archived within its 3 days and its record links the file.
    const archived = join(dir, 'media', 'wecom-kf', openKfId, String((image.image as { media_id: string }).media_id));
    await expect
      .poll(() => readFile(archived, 'utf8').catch(() => ''), { timeout: 20_000 })
      .toBe('a jpeg of the customer');

    // A message sent through the provider never comes back from sync_msg: it is stored at send time.
    const provider = kefu.provider('kf') as WecomKfProvider;
    const sent = await provider.send({ customer: 'wm_emulated_customer', message: { kind: 'text', text: '您好' } });
    await expect.poll(rows, { timeout: 20_000 }).toContain(sent.id);

    // A callback for another corp is refused and pulls nothing.
    const foreign = encrypted('wwOTHER', kfMsgOrEvent(wecom.corpId, callbackToken, openKfId));
    expect((await fetch(`${url}?${foreign.query}`, { method: 'POST', body: foreign.body })).status).toBe(403);
    const metrics = (await running.metrics.exposition()).body;
    expect(metrics).toMatch(/kefu_pushes_total\{receiver="kf\/[^"]+",outcome="pull",reason=""\} 1/);
  });
});

describe('kefu serve rung by the emulator’s own WeCom callbacks', () => {
  it.each([
    { name: 'one callback per message, a token for any page', target: {}, readings: {} },
    {
      name: 'coalesced callbacks, a token for its first page only',
      target: { coalesce: 'coalesced', coalesceMs: 50 },
      readings: { tokenReuse: 'first-page-only' },
    },
    {
      name: 'per message, retried 3 times back to back (a 1 ms deadline), a token for its own account only',
      target: { deadlineMs: 1 },
      readings: { tokenReuse: 'own-account-only' },
    },
    {
      name: 'coalesced, retried at fixed spacing, fewer items than the limit',
      target: { coalesce: 'coalesced', deadlineMs: 1, retrySpacing: 'fixed', retrySpacingMs: 20 },
      readings: { fewerThanLimit: true, emptyPages: true },
    },
  ] as const)('given $name, then every simulated message is stored exactly once', async ({ target, readings }) => {
    emulator = await startEmulator({
      seed: 'serve-wecom-live',
      wecom: { accounts: 2, messagesPerAccount: 3, readings },
    });
    const { wecom } = emulator;
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-wecom-live-'));
    kefu = await createKefu({
      providers: [
        {
          use: '@kefu/wecom-kf',
          id: 'kf',
          config: {
            corpId: wecom.corpId,
            secret: wecom.secret,
            accounts: wecom.accounts.map((openKfId) => ({ openKfId })),
            baseUrl: wecom.baseUrl,
            callback: wecom.callback,
            pageSize: 2,
          },
        },
      ],
      sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: join(dir, 'kefu.db') } }],
      logger: silentLogger,
      bundledPlugins: BUNDLED_PLUGINS,
    });
    serve = await startServe({
      kefu,
      baseDir: dir,
      port: 0,
      serve: { spool: { path: 'spool.sqlite' }, backfill: { intervalSeconds: 3600, lookback: '3d' } },
    });
    const running = serve;
    const rows = () => {
      const db = new DatabaseSync(join(dir as string, 'kefu.db'), { readOnly: true });
      try {
        return (db.prepare('SELECT id FROM kefu_records ORDER BY id').all() as { id: string }[]).map((row) => row.id);
      } finally {
        db.close();
      }
    };
    await expect.poll(() => running.backfillRounds(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(6);

    // The emulator verifies the URL, then rings for every message the customers write.
    await wecom.setCallbackTarget({ url: `${running.url}/wecom-kf/${wecom.corpId}`, ...target });
    const written = wecom.accounts.flatMap((openKfId) =>
      [1, 2, 3].map((n) => wecom.customerMessage(openKfId, `在吗 ${n}`).item.msgid),
    );
    await wecom.callbacksSettled();
    const expected = wecom.accounts.flatMap((openKfId) => wecom.expectedItems(openKfId).map((item) => item.msgid));
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(12);
    expect(rows()).toEqual([...expected].sort());
    expect(rows()).toEqual(expect.arrayContaining(written));
    expect(running.backfillRounds()).toBe(1);
    const callbacks = wecom.callbacks();
    expect(callbacks.flatMap((callback) => callback.msgids).sort()).toEqual([...written].sort());
    // A 1 ms deadline is missed: WeCom's retries bring the same doorbell again, and nothing is stored twice.
    if ('deadlineMs' in target) expect(callbacks.some((callback) => callback.attempts.length > 1)).toBe(true);
    if ('coalesce' in target) expect(callbacks.length).toBeLessThan(written.length);
    else expect(callbacks).toHaveLength(written.length);
  });
});
