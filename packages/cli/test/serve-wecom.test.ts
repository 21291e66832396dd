import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BUNDLED_PLUGINS, type RunningServe, startServe } from '@kefu/cli';
import { createKefu, type Kefu, silentLogger } from '@kefu/core';
import type { WecomKfProvider } from '@kefu/wecom-kf';
import { afterEach, describe, expect, it } from 'vitest';
// The WeCom platform lives in the wecom-kf package's tests until @kefu/emulator gains it.
import {
  CALLBACK,
  encryptedCallback,
  kfMsgOrEventXml,
  urlVerification,
} from '../../wecom-kf/test/support/wecom-callbacks.js';
import {
  startWecomFakePlatform,
  textItems,
  type WecomFakePlatform,
} from '../../wecom-kf/test/support/wecom-fake-platform.js';

const CORP = 'ww0123456789abcdef';
const SECRET = 'kf-app-secret-xyz';

let platform: WecomFakePlatform | undefined;
let kefu: Kefu | undefined;
let serve: RunningServe | undefined;
let dir: string | undefined;
afterEach(async () => {
  await serve?.close();
  await kefu?.close();
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  serve = kefu = platform = dir = undefined;
});

async function post(url: string, callback: { query: URLSearchParams; body: string }) {
  return fetch(`${url}?${callback.query}`, { method: 'POST', body: callback.body });
}

describe('kefu serve with the WeCom kf_msg_or_event callback', () => {
  it('given the callback URL, when WeCom rings, then the pull reads sync_msg with its token from the backfill cursor, and sent messages are stored too', async () => {
    const now = Math.floor(Date.now() / 1000);
    const items = textItems('wkA', 5, now - 3600, 'old');
    platform = await startWecomFakePlatform({
      corpId: CORP,
      secret: SECRET,
      items,
      readings: { tokenReuse: 'first-page-only' },
      media: { MEDIA_IMAGE_1: Buffer.from('a jpeg of the customer') },
    });
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-wecom-'));
    kefu = await createKefu({
      providers: [
        {
          use: '@kefu/wecom-kf',
          id: 'kf',
          config: {
            corpId: CORP,
            secret: SECRET,
            accounts: [{ openKfId: 'wkA' }],
            baseUrl: platform.url,
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
    const url = `${running.url}/wecom-kf/${CORP}`;
    await expect.poll(() => running.backfillRounds(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const rows = () => {
      const db = new DatabaseSync(join(dir as string, 'kefu.db'), { readOnly: true });
      try {
        return (db.prepare('SELECT id FROM kefu_records ORDER BY id').all() as { id: string }[]).map((row) => row.id);
      } finally {
        db.close();
      }
    };
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(5);

    // URL verification: the decrypted echostr, exactly.
    const verified = await fetch(`${url}?${urlVerification(CORP, 'echo-4711')}`);
    expect(await verified.text()).toBe('echo-4711');

    // New messages, then the doorbell: answered at once with an empty 200, then pulled.
    items.push(...textItems('wkA', 3, now - 60, 'new'), {
      msgid: 'image_1',
      open_kfid: 'wkA',
      external_userid: 'wm_customer_1',
      send_time: now - 30,
      origin: 3,
      msgtype: 'image',
      image: { media_id: 'MEDIA_IMAGE_1' },
    });
    const callsBefore = platform.calls.length;
    const token = platform.issueCallbackToken('wkA');
    const rung = await post(url, encryptedCallback(CORP, kfMsgOrEventXml(CORP, token, 'wkA')));
    expect(rung.status).toBe(200);
    expect(await rung.text()).toBe('');
    await expect.poll(rows, { timeout: 20_000 }).toHaveLength(9);
    // The pulled image is archived (media ids live 3 days) and its record links the file.
    await running.media?.idle();
    expect(rows()).toContain('image_1');
    const archived = join(dir, 'media', 'wecom-kf', 'wkA', 'MEDIA_IMAGE_1');
    await expect
      .poll(() => readFile(archived, 'utf8').catch(() => ''), { timeout: 20_000 })
      .toBe('a jpeg of the customer');
    const pulls = platform.calls.slice(callsBefore).filter((call) => call.path === 'kf/sync_msg');
    // One cursor: the pull continued where the backfill stopped, with the callback's token.
    expect(pulls[0]?.body).toMatchObject({ open_kfid: 'wkA', token, cursor: expect.any(String) });

    // A message sent through the provider never comes back from sync_msg: it is stored at send time.
    const provider = kefu.provider('kf') as WecomKfProvider;
    const sent = await provider.send({ customer: 'wm_customer_0', message: { kind: 'text', text: '您好' } });
    await expect.poll(rows, { timeout: 20_000 }).toContain(sent.id);

    // A callback for another corp is refused and pulls nothing.
    const refused = await post(url, encryptedCallback('wwOTHER', kfMsgOrEventXml(CORP, token, 'wkA')));
    expect(refused.status).toBe(403);
    const metrics = (await running.metrics.exposition()).body;
    expect(metrics).toMatch(/kefu_pushes_total\{receiver="kf\/ww0123456789abcdef",outcome="pull",reason=""\} 1/);
  });
});
