import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createKefu, type KefuRecord, silentLogger, sleep } from '@kefu/core';
import { kefuProviderConfigs, type RunningEmulator } from '@kefu/emulator';
import { plugin as sinkDb } from '@kefu/sink-db';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { plugin as wecomKf } from '@kefu/wecom-kf';
import { cliError } from '../errors.js';
import { startServe } from '../serve/serve-runner.js';

/**
 * The live part of `kefu demo`: `kefu serve` (in-process, on a random loopback port) receives
 * the emulator's WeChat pushes — a session opening, customer messages, the session closing —
 * in two of WeChat's modes, stores each once in the demo's SQLite database, and the demo
 * prints each record the moment the spool committed it (which is when `success` is answered).
 * Then WeCom customers write: the emulator rings serve's WeCom kf callback URL, and serve pulls
 * the messages through kf/sync_msg with the callback's Token, from the cursor the sync left.
 */

/** One pushed (or, for WeCom, pulled on a callback) record as the demo shows it. */
export interface DemoLiveRecord {
  id: string;
  provider: string;
  account: string;
  customer: string;
  kind: string;
  /** The text of a message, or the session event (`session-created`…). */
  what: string;
  at: string;
}

/** What the live part reports. */
export interface DemoLiveSummary {
  /** Where `kefu serve` listened. */
  url: string;
  /** Pushes the emulator sent, and how many were answered `success`. */
  pushes: number;
  acknowledged: number;
  /** WeCom kf_msg_or_event callbacks the emulator sent, and how many were answered HTTP 200. */
  callbacks: number;
  callbacksAcknowledged: number;
  records: DemoLiveRecord[];
}

/** The Token and EncodingAESKey of each emulated account's server URL (demo values). */
const PUSH_SETTINGS = [
  { token: 'kefudemo0', encodingAesKey: 'kefuDemoLivePushKey000000000000000000000000', mode: 'safe' },
  { token: 'kefudemo1', encodingAesKey: 'kefuDemoLivePushKey111111111111111111111111', mode: 'plaintext' },
] as const;

/** What the customers of the first account (and one of the second) do, in order. */
function script(appIds: readonly string[]): Array<Record<string, unknown>> {
  const [first = '', second = first] = appIds;
  return [
    { appid: first, openid: 'o_demo_live_1', kind: 'kf_create_session', kfAccount: 'kf1001@kefuemu1' },
    { appid: first, openid: 'o_demo_live_1', kind: 'text', text: '你好，我的订单什么时候发货？' },
    { appid: second, openid: 'o_demo_live_2', kind: 'text', text: 'Is the store open on Sunday? 🙂' },
    { appid: first, openid: 'o_demo_live_1', kind: 'voice', text: '好的，谢谢' },
    { appid: first, openid: 'o_demo_live_1', kind: 'kf_close_session', kfAccount: 'kf1001@kefuemu1' },
  ];
}

/** What WeCom customers write (account index, text): the emulator rings serve for each. */
const WECOM_SCRIPT: ReadonlyArray<readonly [number, string]> = [
  [0, '请问可以开发票吗？'],
  [1, '退货地址是哪里？'],
];

/** Runs the live part against `emulator`; `show` gets each record as it arrives. */
export async function runDemoLive(
  emulator: RunningEmulator,
  options: { dir: string; database: string; show: (record: DemoLiveRecord) => void },
): Promise<DemoLiveSummary> {
  // A spool left by an earlier run would drop this run's pushes as retries of that one's.
  const spoolPath = join(options.dir, 'spool.sqlite');
  for (const suffix of ['', '-wal', '-shm']) await rm(`${spoolPath}${suffix}`, { force: true });
  const configs = kefuProviderConfigs(emulator);
  const accounts = configs.wechat.accounts.map((account, i) => ({
    ...account,
    push: { token: PUSH_SETTINGS[i % 2]?.token ?? '', encodingAesKey: PUSH_SETTINGS[i % 2]?.encodingAesKey ?? '' },
  }));
  const kefu = await createKefu({
    providers: [
      { use: wechatMp, id: 'wechat-mp', config: { ...configs.wechat, accounts } },
      { use: wecomKf, id: 'wecom-kf', config: configs.wecom },
    ],
    sinks: [{ use: sinkDb, id: 'sqlite', config: { url: options.database } }],
    // The sync's checkpoints: a WeCom pull goes on from the cursor the sync left.
    checkpoints: { use: 'sink', sink: 'sqlite' },
    logger: silentLogger,
  });
  const records: DemoLiveRecord[] = [];
  try {
    const serve = await startServe({
      kefu,
      serve: { host: '127.0.0.1', port: 0, spool: { path: spoolPath } },
      baseDir: options.dir,
      onStored: (stored) => {
        for (const record of stored) {
          const shown = liveRecord(record);
          records.push(shown);
          options.show(shown);
        }
      },
    });
    try {
      const url = serve.url ?? '';
      for (const [i, account] of accounts.entries()) {
        await emulatorControl(emulator, 'PUT', 'push-target', {
          appid: account.appId,
          url: `${url}/wechat/${account.appId}`,
          token: account.push.token,
          encodingAesKey: account.push.encodingAesKey,
          mode: PUSH_SETTINGS[i % 2]?.mode,
        });
      }
      let acknowledged = 0;
      const pushes = script(accounts.map((account) => account.appId));
      for (const push of pushes) {
        const delivery = await emulatorControl(emulator, 'POST', 'push', push);
        if (delivery.acknowledged === true) acknowledged += 1;
      }
      const callbacks = await ringWecom(emulator, url, records);
      // Everything acknowledged is in the spool; wait (bounded) until it is in the database too.
      for (let waited = 0; serve.spool.depth() > 0; waited += 20) {
        if (waited > 30_000) throw cliError('KEFU_CLI_DEMO_LIVE', 'pushes stayed in the spool for 30 s');
        await sleep(20);
      }
      return { url, pushes: pushes.length, acknowledged, ...callbacks, records };
    } finally {
      await serve.close();
    }
  } finally {
    await kefu.close();
  }
}

/**
 * WeCom customers write; the emulator verifies serve's callback URL and rings it for each
 * message. The callback is only a doorbell, so each message is awaited (bounded) until serve's
 * pull stored it, one after the other: the demo's lines come in the order written.
 */
async function ringWecom(
  emulator: RunningEmulator,
  url: string,
  records: readonly DemoLiveRecord[],
): Promise<Pick<DemoLiveSummary, 'callbacks' | 'callbacksAcknowledged'>> {
  const { wecom } = emulator;
  await wecom.setCallbackTarget({ url: `${url}/wecom-kf/${wecom.corpId}` });
  for (const [index, text] of WECOM_SCRIPT) {
    const openKfId = wecom.accounts[index % wecom.accounts.length] as string;
    const { msgid } = wecom.customerMessage(openKfId, text).item;
    for (let waited = 0; !records.some((record) => record.id === msgid); waited += 20) {
      if (waited > 30_000) throw cliError('KEFU_CLI_DEMO_LIVE', `WeCom message ${msgid} was not pulled within 30 s`);
      await sleep(20);
    }
  }
  await wecom.callbacksSettled();
  const callbacks = wecom.callbacks();
  return {
    callbacks: callbacks.length,
    callbacksAcknowledged: callbacks.filter((callback) => callback.acknowledged).length,
  };
}

function liveRecord(record: KefuRecord): DemoLiveRecord {
  return {
    id: record.id,
    provider: record.provider,
    account: record.account,
    customer: record.customer,
    kind: record.kind,
    what: record.event ?? record.text ?? record.kind,
    at: record.at,
  };
}

/** A call to the emulator's WeChat control API (`/__emulator/wechat/…`). */
async function emulatorControl(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.url}/__emulator/wechat/${path}`, { method, body: JSON.stringify(body) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) {
    throw cliError(
      'KEFU_CLI_DEMO_LIVE',
      `emulator ${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`,
    );
  }
  return answer;
}
