import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readKefuConfigFile } from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The control API as a user's test in another language would drive it: the built
// `kefu-emulator` in its own process, plain HTTP from this one.

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
const START = '2026-01-15T04:00:00.000Z';
const DAY_START = Date.UTC(2026, 0, 13, 16, 0, 0) / 1000; // 2026-01-14 00:00 in Beijing

interface Printed {
  url: string;
  wechat: { accounts: Array<{ appId: string; secret: string }> };
}

let child: ChildProcess;
let emulator: Printed;
let appId: string;
let secret: string;

/** Spawns the built command and resolves with its first stdout line. */
async function spawnEmulator(args: string[]): Promise<{ process: ChildProcess; lines: AsyncIterableIterator<string> }> {
  const started = spawn(process.execPath, [`${packageDir}dist/bin.js`, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: started.stdout! })[Symbol.asyncIterator]();
  return { process: started, lines };
}

async function json(path: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined
      ? {}
      : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  return { status: response.status, body: (await response.json()) as any };
}

const token = async () =>
  (await json(`/cgi-bin/token?grant_type=client_credential&appid=${appId}&secret=${secret}`)).body
    .access_token as string;
const kfList = async (accessToken: string) =>
  (await json(`/cgi-bin/customservice/getkflist?access_token=${accessToken}`)).body;

beforeAll(async () => {
  // The command runs from dist: build this package (and its references) first.
  execFileSync(`${repoDir}node_modules/.bin/tsc`, ['-b', packageDir], { cwd: repoDir, stdio: 'inherit' });
  const started = await spawnEmulator([
    '--json',
    '--freeze-clock',
    '--now',
    START,
    '--seed',
    'control',
    '--accounts',
    '1',
  ]);
  child = started.process;
  emulator = JSON.parse((await started.lines.next()).value as string) as Printed;
  appId = emulator.wechat.accounts[0]!.appId;
  secret = emulator.wechat.accounts[0]!.secret;
}, 120_000);
afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('the control API, from another process', () => {
  it('given a frozen clock, then GET shows it and POST advance moves it by exactly the milliseconds asked', async () => {
    const before = await json('/__emulator/clock');
    expect(before.body).toEqual({ now: Date.parse(START), iso: START, frozen: true });
    const after = await json('/__emulator/clock/advance', { method: 'POST', body: { ms: 90_000 } });
    expect(after.body.now).toBe(Date.parse(START) + 90_000);
    const refused = await json('/__emulator/clock/advance', { method: 'POST', body: { ms: -1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('EMULATOR_OPTIONS_INVALID');
  });

  it('given API calls, then the request log lists them with filters, leaves control calls out, and DELETE clears it', async () => {
    await json('/__emulator/requests', { method: 'DELETE' });
    await kfList('not-a-token');
    await kfList(await token());
    const all = await json('/__emulator/requests');
    expect(all.body.entries.map((entry: { path: string }) => entry.path)).toEqual([
      '/cgi-bin/customservice/getkflist',
      '/cgi-bin/token',
      '/cgi-bin/customservice/getkflist',
    ]);
    const failed = await json('/__emulator/requests?path=/cgi-bin/customservice/getkflist&errcode=40014');
    expect(failed.body.count).toBe(1);
    expect(failed.body.entries[0].query.access_token).toBe('[redacted]');
    expect((await json('/__emulator/requests?pathPattern=token$&limit=5')).body.count).toBe(1);
    expect((await json('/__emulator/requests?status=abc')).status).toBe(400);
    expect((await json('/__emulator/requests', { method: 'DELETE' })).body).toEqual({ cleared: 3 });
    expect((await json('/__emulator/requests')).body.count).toBe(0);
  });

  it('given an app id, then revoking its tokens answers 40001 and expiring them 42001, until a new token is fetched', async () => {
    const first = await token();
    expect((await kfList(first)).kf_list).toEqual(expect.any(Array));
    // Tokens fetched by earlier tests still work during their overlap: they count too.
    const revoked = await json('/__emulator/wechat/tokens/revoke', { method: 'POST', body: { appid: appId } });
    expect(revoked.body.revoked).toBeGreaterThanOrEqual(1);
    expect((await kfList(first)).errcode).toBe(40001);
    const second = await token();
    expect((await kfList(second)).kf_list).toEqual(expect.any(Array));
    expect(
      (await json('/__emulator/wechat/tokens/expire', { method: 'POST', body: { appid: appId } })).body.expired,
    ).toBe(1);
    expect((await kfList(second)).errcode).toBe(42001);
    const unknown = await json('/__emulator/wechat/tokens/revoke', { method: 'POST', body: { appid: 'wx0' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('EMULATOR_UNKNOWN_ACCOUNT');
  });

  it('given fault knobs put over HTTP, then API calls meet them, control calls do not, and a bad knob is refused', async () => {
    const accessToken = await token();
    expect((await json('/__emulator/faults')).body).toEqual({});
    await json('/__emulator/faults', { method: 'PUT', body: { wechatBusyRate: 1, serverErrorRate: 0 } });
    expect((await json('/__emulator/faults')).body).toEqual({ wechatBusyRate: 1, serverErrorRate: 0 });
    expect((await kfList(accessToken)).errcode).toBe(-1);
    expect((await json('/__emulator/clock')).status).toBe(200);
    const refused = await json('/__emulator/faults', { method: 'PUT', body: { serverErrorRate: 2 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('serverErrorRate');
    await json('/__emulator/faults', { method: 'PUT', body: {} });
    expect((await kfList(accessToken)).kf_list).toEqual(expect.any(Array));
  });

  it('given WeChat knobs put over HTTP, then getmsglist follows them, and exclusive + next is refused', async () => {
    expect((await json('/__emulator/wechat/knobs')).body).toMatchObject({
      records: { msgidModel: 'global-id', continuation: 'inclusive', responseMsgid: 'last', endtime: 'exclusive' },
      deleteAgent: 'both',
    });
    const changed = await json('/__emulator/wechat/knobs', {
      method: 'PUT',
      body: { records: { continuation: 'exclusive' } },
    });
    expect(changed.body.records).toMatchObject({ continuation: 'exclusive', responseMsgid: 'last' });
    const accessToken = await token();
    const page = (msgid: number) =>
      json(`/customservice/msgrecord/getmsglist?access_token=${accessToken}`, {
        method: 'POST',
        body: { starttime: DAY_START, endtime: DAY_START + 86_400, msgid, number: 3 },
      });
    const first = await page(1);
    const second = await page(first.body.msgid);
    expect(second.body.recordlist[0]).not.toEqual(first.body.recordlist[2]);
    const refused = await json('/__emulator/wechat/knobs', {
      method: 'PUT',
      body: { records: { continuation: 'exclusive', responseMsgid: 'next' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/skip the record/);
    await json('/__emulator/wechat/knobs', { method: 'PUT', body: { records: { continuation: 'inclusive' } } });
  });

  it('given a range, then the ground truth endpoint answers the records getmsglist pages through, with their msgids', async () => {
    const truth = await json(`/__emulator/wechat/records?appid=${appId}&from=${DAY_START}&to=${DAY_START + 86_400}`);
    expect(truth.body.count).toBeGreaterThan(50);
    expect(truth.body.truncated).toBe(false);
    const accessToken = await token();
    const all = await json(`/customservice/msgrecord/getmsglist?access_token=${accessToken}`, {
      method: 'POST',
      body: { starttime: DAY_START, endtime: DAY_START + 86_400, msgid: 1, number: 10_000 },
    });
    expect(truth.body.records.map((entry: { record: unknown }) => entry.record)).toEqual(all.body.recordlist);
    expect(all.body.msgid).toBe(truth.body.records.at(-1).msgid);
    const iso = await json(
      `/__emulator/wechat/records?appid=${appId}&from=${new Date(DAY_START * 1000).toISOString()}&to=${DAY_START + 86_400}&limit=5`,
    );
    expect(iso.body).toMatchObject({ count: 5, truncated: true });
    expect(iso.body.records).toEqual(truth.body.records.slice(0, 5));
    expect((await json(`/__emulator/wechat/records?appid=${appId}&from=yesterday&to=1`)).status).toBe(400);
    expect((await json(`/__emulator/wechat/records?appid=wx0&from=1&to=2`)).status).toBe(404);
  });

  it('given an unknown control path, then it answers 404 EMULATOR_CONTROL_NOT_FOUND', async () => {
    for (const path of ['/__emulator/nothing', '/__emulator/wechat/nothing', '/__emulator/clock/advance']) {
      const answer = await json(path);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('EMULATOR_CONTROL_NOT_FOUND');
    }
  });
});

describe('kefu-emulator --print-config', () => {
  it('given --print-config, then it prints a kefu YAML config for its accounts that kefu reads as it is', async () => {
    const started = await spawnEmulator(['--print-config', '--seed', 'print', '--accounts', '2']);
    const dir = await mkdtemp(join(tmpdir(), 'kefu-emulator-config-'));
    try {
      const lines: string[] = [];
      for (let line = await started.lines.next(); !line.done; line = await started.lines.next()) {
        lines.push(line.value);
        if (line.value === '...') break;
      }
      const path = join(dir, 'kefu.yaml');
      await writeFile(path, `${lines.join('\n')}\n`);
      const config = await readKefuConfigFile(path);
      expect(config.providers.map((provider) => provider.use)).toEqual([
        '@kefu/wechat-mp',
        '@kefu/youmi',
        '@kefu/wecom-kf',
      ]);
      const wechat = config.providers[0]!.config as { baseUrl: string; accounts: Array<{ appId: string }> };
      expect(wechat.accounts).toHaveLength(2);
      // The printed URL serves the printed accounts.
      const served = await fetch(`${wechat.baseUrl}/__emulator/wechat/customers?appid=${wechat.accounts[1]!.appId}`);
      expect(served.status).toBe(200);
      expect(config.checkpoints).toMatchObject({ use: 'file' });
      // The WeCom block carries the app's callback secrets, so `kefu serve` mounts the URL the emulator rings.
      const wecom = config.providers[2]!.config as {
        corpId: string;
        callback?: { token: string; encodingAesKey: string };
      };
      expect(wecom.callback?.encodingAesKey).toHaveLength(43);
    } finally {
      started.process.kill('SIGTERM');
      await once(started.process, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
