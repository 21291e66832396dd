import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BUNDLED_PLUGINS, type RunningServe, startServe } from '@kefu/cli';
import { createKefu, type Kefu, silentLogger } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { afterEach, describe, expect, it } from 'vitest';

// startServe in-process with the Youmi provider against the emulator, which delivers v1
// callbacks (回调数据) to the URL set "in the back office" (setV1CallbackUrl) and serves GetChat.

const PATH_SECRET = 'youmi-path-secret-0123456789ab';

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

describe('kefu serve with Youmi callbacks', () => {
  it('given the v1 callback URL with the path secret, then a pushed chat is acknowledged once stored and the scheduled backfill does not store it again; without the secret it is refused and nothing is written', async () => {
    emulator = await startEmulator({
      seed: 'serve-youmi',
      youmi: { wechatIds: [10001], fansPerAccount: 4, chatsPerFan: 3, days: 2 },
    });
    const youmi = emulator.youmi;
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-youmi-'));
    kefu = await createKefu({
      providers: [
        {
          use: '@kefu/youmi',
          id: 'youmi',
          config: {
            baseUrl: youmi.baseUrl,
            tokenUrl: youmi.tokenUrl,
            clientId: youmi.clientId,
            clientSecret: youmi.clientSecret,
            wechatIds: youmi.wechatIds,
            callbacks: { pathSecret: PATH_SECRET },
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
      serve: { spool: { path: 'spool.sqlite' }, backfill: { intervalSeconds: 1, lookback: '60d' } },
    });
    const running = serve;
    await expect.poll(() => running.backfillRounds(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const fan = youmi.fans(10001)[0]?.fansKey as string;

    // Without the secret: refused, nothing stored.
    youmi.setV1CallbackUrl(`${running.url}/youmi/youmi`);
    youmi.simulateFanMessage({ wechatId: 10001, fansKey: fan, content: '没有密钥' });
    await youmi.whenEventsDelivered();
    expect(youmi.deliveryAttempts().every((attempt) => !attempt.acknowledged)).toBe(true);
    expect(running.spool.depth()).toBe(0);

    // With it: acknowledged after the spool write; the next backfill rounds meet the same chat.
    youmi.setV1CallbackUrl(`${running.url}/youmi/youmi/${PATH_SECRET}`);
    const chat = youmi.simulateFanMessage({ wechatId: 10001, fansKey: fan, content: '回调与补录只存一次' });
    await youmi.whenEventsDelivered();
    expect(youmi.deliveryAttempts().at(-1)).toMatchObject({ acknowledged: true });
    const rounds = running.backfillRounds();
    await expect.poll(() => running.backfillRounds(), { timeout: 20_000 }).toBeGreaterThanOrEqual(rounds + 2);
    await expect.poll(() => running.spool.depth()).toBe(0);

    const db = new DatabaseSync(join(dir, 'kefu.db'), { readOnly: true });
    const count = (id: string) =>
      (db.prepare('SELECT COUNT(*) AS n FROM kefu_records WHERE id = ?').get(id) as { n: number }).n;
    const pushed = count(`10001:${chat.ad_chatting_id}`);
    const all = (db.prepare('SELECT COUNT(*) AS n FROM kefu_records').get() as { n: number }).n;
    db.close();
    expect(pushed).toBe(1);
    expect(all).toBeGreaterThan(1); // the backfilled history is there too
    const metrics = (await serve.metrics.exposition()).body;
    expect(metrics).toMatch(
      /kefu_pushes_total\{receiver="youmi\/youmi",outcome="rejected",reason="bad_path_secret"\} [1-9]/,
    );
    expect(metrics).toMatch(/kefu_pushes_total\{receiver="youmi\/youmi",outcome="accepted",reason=""\} 1/);
    // The backfill met the pushed chat and left it out (the sink never saw a second copy).
    expect(metrics).toMatch(/kefu_records_deduplicated_total\{source="backfill"\} [1-9]/);
  });
});
