import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe } from './support/serve-child.js';

// `kefu serve -c kefu.yaml` as a real child process (the built binary) for WeCom customer
// service, like serve.e2e.test.ts for WeChat: the emulator verifies the callback URL, then
// rings it with encrypted kf_msg_or_event callbacks (msg_signature, receiveid = corpid); serve
// pulls kf/sync_msg with each callback's Token from the backfill's cursor and stores each
// message once. Secrets come from the environment, never into the logs.

const SECRET_ENV = 'KEFU_E2E_WECOM_SECRET';
const AES_ENV = 'KEFU_E2E_WECOM_AES_KEY';

describe('kefu serve (child process) with WeCom kf callbacks from the emulator', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let child: ChildProcessWithoutNullStreams | undefined;
  let stderr = '';

  const rows = () => {
    const db = new DatabaseSync(join(dir, 'records.db'), { readOnly: true });
    try {
      return (db.prepare('SELECT id FROM kefu_records ORDER BY id').all() as { id: string }[]).map((row) => row.id);
    } finally {
      db.close();
    }
  };

  /** Starts `kefu serve` and resolves with its URL once it listens. */
  const startServe = async (): Promise<string> => {
    const serve = spawnServe({
      cwd: dir,
      config: 'kefu.yaml',
      env: { ...process.env, [SECRET_ENV]: emulator.wecom.secret, [AES_ENV]: emulator.wecom.callback.encodingAesKey },
      onStderr: (chunk) => {
        stderr += chunk;
      },
    });
    child = serve.child;
    return serve.listening;
  };

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 'serve-wecom-e2e',
      wecom: { accounts: 2, messagesPerAccount: 6, readings: { tokenReuse: 'first-page-only' } },
    });
    dir = await mkdtemp(join(tmpdir(), 'kefu-serve-wecom-e2e-'));
    const { wecom } = emulator;
    const config = [
      'providers:',
      '  - use: "@kefu/wecom-kf"',
      '    id: kf',
      '    config:',
      `      baseUrl: ${wecom.baseUrl}`,
      `      corpId: ${wecom.corpId}`,
      `      secret: \${${SECRET_ENV}}`,
      `      accounts: [${wecom.accounts.map((openKfId) => `{ openKfId: ${openKfId} }`).join(', ')}]`,
      '      pageSize: 4',
      '      callback:',
      `        token: ${wecom.callback.token}`,
      `        encodingAesKey: \${${AES_ENV}}`,
      'sinks:',
      '  - use: "@kefu/sink-db"',
      '    id: db',
      '    config: { url: ./records.db }',
      'checkpoints: { use: file, path: ./checkpoints.json }',
      'serve:',
      '  host: 127.0.0.1',
      '  port: 0',
      '  spool: { path: spool.sqlite }',
      '  backfill: { intervalSeconds: 3600, lookback: 3d }',
    ].join('\n');
    await writeFile(join(dir, 'kefu.yaml'), config);
  });

  afterEach(async () => {
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      running.kill('SIGKILL');
      await new Promise((done) => running.once('exit', done));
    }
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given the callback URL, when customers write, then each kf_msg_or_event pull reads sync_msg with its Token and every message is stored once', async () => {
    const { wecom } = emulator;
    const url = await startServe();
    const truth = () => wecom.accounts.flatMap((openKfId) => wecom.expectedItems(openKfId).map((item) => item.msgid));
    // The scheduled backfill reads the seeded messages first (it sets the cursor the pulls go on from).
    await expect.poll(rows, { timeout: 30_000 }).toHaveLength(12);

    // URL verification (GET, encrypted echostr) happens here; a wrong URL would be refused.
    await wecom.setCallbackTarget({ url: `${url}/wecom-kf/${wecom.corpId}` });
    const before = emulator.requests.count({ path: '/wecom-kf/cgi-bin/kf/sync_msg' });
    const written = wecom.accounts.flatMap((openKfId) =>
      [1, 2].map((n) => wecom.customerMessage(openKfId, `在吗 ${n}`)),
    );
    await wecom.callbacksSettled();
    await expect.poll(rows, { timeout: 30_000 }).toHaveLength(16);
    expect(rows()).toEqual([...truth()].sort());

    // Every callback was answered 200 on its first try, and each pull used that callback's Token.
    const callbacks = wecom.callbacks();
    expect(callbacks.flatMap((callback) => callback.msgids).sort()).toEqual(
      written.map((write) => write.item.msgid).sort(),
    );
    expect(callbacks.every((callback) => callback.attempts[0]?.status === 200)).toBe(true);
    expect(written.filter((write) => wecom.callbackTokenUses(write.callbackToken) > 0).length).toBeGreaterThan(0);
    expect(emulator.requests.count({ path: '/wecom-kf/cgi-bin/kf/sync_msg' })).toBeGreaterThan(before);

    // A forged callback (no valid msg_signature) is refused and stores nothing.
    const forged = await fetch(`${url}/wecom-kf/${wecom.corpId}?msg_signature=0&timestamp=1&nonce=2`, {
      method: 'POST',
      body: '<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>',
    });
    expect(forged.status).toBe(401);

    child?.kill('SIGTERM');
    expect(await new Promise((done) => child?.once('exit', done))).toBe(0);
    expect(rows()).toHaveLength(16);
    expect(stderr).not.toContain(wecom.secret);
    expect(stderr).not.toContain(wecom.callback.encodingAesKey);
  }, 120_000);
});
