import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe } from './support/serve-child.js';

// `kefu serve` as a real child process (the built binary: `pnpm test` builds first) against
// the emulator, which pushes like WeChat (3 modes, 5 s deadline, 3 tries): kill -9 in the
// middle of a burst, restart, WeChat's retries; then the backfill and /metrics.

const MODES = ['plaintext', 'compatible', 'safe'] as const;
const KEYS = [
  'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut',
  'kefuServeE2eKey0000000000000000000000000000',
];

interface PushDelivery {
  id: number;
  appid: string;
  xml: string;
  msgId?: string;
  acknowledged: boolean;
  attempts: Array<{ attempt: number; status?: number; acknowledged: boolean }>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('kefu serve (child process) against the emulator', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let port: number;
  let child: ChildProcessWithoutNullStreams | undefined;
  let stderr = '';

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}/__emulator/wechat/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`${path}: ${JSON.stringify(answer)}`);
    return answer;
  };

  /** Starts `kefu serve` and resolves once it listens. */
  const startServe = async () => {
    const serve = spawnServe({
      cwd: dir,
      config: 'kefu.json',
      onStderr: (chunk) => {
        stderr += chunk;
      },
    });
    child = serve.child;
    await serve.listening;
    return serve.child;
  };

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.split(' ').pop());
    return total;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 'serve-e2e', wechat: { accounts: 3, days: 1, recordsPerDay: 40 } });
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-'));
    port = await freePort();
    const accounts = emulator.wechat.accounts.map((account, i) => ({
      appId: account.appId,
      secret: account.secret,
      push: { token: `token${i}`, encodingAesKey: KEYS[i] },
    }));
    const config = {
      providers: [{ use: '@kefu/wechat-mp', id: 'wx', config: { baseUrl: emulator.wechat.baseUrl, accounts } }],
      sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: join(dir, 'records.db') } }],
      checkpoints: { use: 'file', path: 'checkpoints.json' },
      serve: {
        host: '127.0.0.1',
        port,
        spool: { path: 'spool.sqlite' },
        backfill: { intervalSeconds: 3600, lookback: '1d' },
        media: { dir: 'media', concurrency: 2 },
      },
    };
    await writeFile(join(dir, 'kefu.json'), JSON.stringify(config));
    for (const [i, account] of accounts.entries()) {
      await control('PUT', 'push-target', {
        appid: account.appId,
        url: `http://127.0.0.1:${port}/wechat/${account.appId}`,
        token: account.push.token,
        encodingAesKey: account.push.encodingAesKey,
        mode: MODES[i],
      });
    }
  });

  // A test that fails half-way leaves its process holding the port: the next one must not meet it.
  afterEach(async () => {
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      running.kill('SIGKILL');
      await new Promise((done) => running.once('exit', done));
    }
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given kill -9 during a burst of pushes, then after a restart every push answered `success` is stored, and WeChat retries of the others are stored once', async () => {
    const first = await startServe();
    const accounts = emulator.wechat.accounts;
    const push = (i: number) =>
      control('POST', 'push', {
        appid: accounts[i % 3]?.appId,
        openid: `o_burst_${i % 7}`,
        kind: i % 10 === 9 ? 'kf_create_session' : 'text',
        text: `第 ${i} 条消息 😀`,
        kfAccount: 'kf1001@wx',
        createTime: 1_900_000_000 + i,
      });
    // Five senders at a time, as a steady stream: when the kill comes most pushes are still
    // to be sent, so some are always cut off (all 90 at once are answered before any kill
    // on a quiet machine).
    let next = 0;
    const burst = Array.from({ length: 5 }, async () => {
      while (next < 90) await push(next++);
    });
    // Kill once some pushes have been answered, while the others are in flight.
    await expect
      .poll(
        async () =>
          ((await control('GET', 'pushes')).deliveries as PushDelivery[]).filter((d) => d.acknowledged).length,
        {
          timeout: 20_000,
          interval: 5,
        },
      )
      .toBeGreaterThanOrEqual(15);
    first.kill('SIGKILL');
    await new Promise((done) => first.once('exit', done));
    const restarted = startServe();
    await Promise.all(burst);
    await restarted;

    const deliveries = (await control('GET', 'pushes')).deliveries as PushDelivery[];
    const unanswered = deliveries.filter((delivery) => !delivery.acknowledged);
    // The kill cut some pushes off: either they stayed unanswered, or the emulator's next
    // try reached the restarted process in time (all answered on a slow machine, where the
    // restart is quick compared with the pushes still queued).
    const cutOff = deliveries.filter((delivery) => !delivery.acknowledged || delivery.attempts.length > 1);
    expect(cutOff.length, 'the kill cut no push off').toBeGreaterThan(0);
    // WeChat retries what was not answered; and some answered ones again (an answer it missed).
    const retries = [...unanswered, ...deliveries.filter((delivery) => delivery.acknowledged).slice(0, 5)];
    for (const delivery of retries) {
      const again = (await control('POST', 'push/resend', { id: delivery.id })) as unknown as PushDelivery;
      expect(again.acknowledged, JSON.stringify(again.attempts)).toBe(true);
    }

    // Drained: the spool is empty, then a graceful stop.
    await expect.poll(() => metric(/^kefu_spool_depth /), { timeout: 20_000 }).toBe(0);
    const stopped = child as ChildProcessWithoutNullStreams;
    stopped.kill('SIGTERM');
    const code = await new Promise((done) => stopped.once('exit', done));
    expect(code, stderr).toBe(0);

    const db = new DatabaseSync(join(dir, 'records.db'), { readOnly: true });
    const rows = db.prepare("SELECT raw FROM kefu_records WHERE provider = 'wechat-mp'").all() as Array<{
      raw: string;
    }>;
    db.close();
    // A push is identified by its sender, CreateTime (unique per push here) and MsgId/Event.
    const counts = new Map<string, number>();
    for (const row of rows) {
      const raw = JSON.parse(row.raw) as { CreateTime?: string; FromUserName?: string };
      if (!raw.CreateTime) continue; // a backfilled getmsglist record
      const key = `${raw.FromUserName}/${raw.CreateTime}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const pushed = new Set(
      deliveries.map((delivery) => {
        const from = /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(delivery.xml)?.[1];
        const time = /<CreateTime>(\d+)<\/CreateTime>/.exec(delivery.xml)?.[1];
        return `${from}/${time}`;
      }),
    );
    expect(pushed.size).toBe(90);
    for (const key of pushed) expect(counts.get(key), `push ${key}`).toBe(1);
    expect(counts.size).toBe(90);
  }, 120_000);

  it('given serve running with pushes and the scheduled backfill, then /metrics counts them, /healthz and /readyz answer, and backfilled records are in the sink', async () => {
    const running = await startServe();
    const appId = emulator.wechat.accounts[0]?.appId as string;
    await expect.poll(() => metric(/^kefu_backfill_runs_total\{.*status="done"/), { timeout: 30_000 }).toBe(3);
    const before = await metric(/^kefu_pushes_total\{.*outcome="accepted"/);
    for (let i = 0; i < 5; i++) {
      await control('POST', 'push', { appid: appId, openid: 'o_metrics', kind: 'text', text: `m${i}` });
    }
    expect((await metric(/^kefu_pushes_total\{.*outcome="accepted"/)) - before).toBe(5);
    expect(await metric(/^kefu_records_in_total\{.*source="push"/)).toBeGreaterThanOrEqual(5);
    await expect.poll(() => metric(/^kefu_records_out_total\{.*sink="db"/)).toBeGreaterThanOrEqual(5);
    expect(await metric(/^kefu_push_ack_seconds_count/)).toBeGreaterThanOrEqual(5);
    // Media: image, voice and video pushes are archived and linked in their records.
    const mediaIds: string[] = [];
    for (const kind of ['image', 'voice', 'video']) {
      const sent = await control('POST', 'push', { appid: appId, openid: 'o_media', kind, text: '语音识别' });
      mediaIds.push(String(sent.mediaId));
    }
    await expect.poll(() => metric(/^kefu_media_downloads_total\{outcome="stored"/), { timeout: 20_000 }).toBe(3);
    await expect.poll(() => metric(/^kefu_spool_depth /)).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    running.kill('SIGTERM');
    expect(await new Promise((done) => running.once('exit', done))).toBe(0);

    const db = new DatabaseSync(join(dir, 'records.db'), { readOnly: true });
    const backfilled = db
      .prepare("SELECT COUNT(*) AS n FROM kefu_records WHERE provider = 'wechat-mp' AND raw NOT LIKE '%CreateTime%'")
      .get() as { n: number };
    db.close();
    const truth = emulator.wechat.accounts.reduce(
      (sum, account) =>
        sum +
        emulator.wechat.expectedRecords({
          appId: account.appId,
          from: new Date(Date.now() - 86_400_000 * 3),
          to: new Date(),
        }).length,
      0,
    );
    expect(backfilled.n).toBeGreaterThan(0);
    for (const mediaId of mediaIds) {
      const reader = new DatabaseSync(join(dir, 'records.db'), { readOnly: true });
      const row = reader.prepare('SELECT kind, attachments FROM kefu_records WHERE raw LIKE ?').get(`%${mediaId}%`) as {
        kind: string;
        attachments: string;
      };
      reader.close();
      const archived = (JSON.parse(row.attachments) as { media?: { archived?: string } }).media?.archived as string;
      expect(archived, row.attachments).toBe(join(dir, 'media', 'wechat-mp', appId, mediaId));
      const bytes = await readFile(archived);
      expect(bytes.length).toBeGreaterThan(100);
      if (row.kind === 'image') expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    }
    expect(backfilled.n).toBeLessThanOrEqual(truth);
  }, 120_000);
});
