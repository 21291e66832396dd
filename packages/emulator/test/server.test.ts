import { isKefuError } from '@kefu/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultOptions, type RunningEmulator, startEmulator } from '../src/index.js';
import { tokenFor } from './wechat-support.js';

const NOW = Date.UTC(2026, 0, 15, 4, 0, 0);
const running: RunningEmulator[] = [];

async function start(faults: FaultOptions = {}): Promise<RunningEmulator> {
  const emulator = await startEmulator({ seed: 'server', now: NOW, wechat: { customers: 20 }, faults });
  running.push(emulator);
  return emulator;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
});

/** One getkflist call; resolves with what the client saw, including network failures. */
async function kfList(emulator: RunningEmulator, token: string) {
  const url = `${emulator.wechat.baseUrl}/cgi-bin/customservice/getkflist?access_token=${token}`;
  try {
    const response = await request(url, { method: 'GET' });
    const text = await response.body.text();
    return { status: response.statusCode, text };
  } catch (error) {
    return { status: -1, text: String(error) };
  }
}

describe('emulator server', () => {
  it('given default options, when started, then it listens on a random loopback port and answers JSON', async () => {
    const emulator = await start();
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.wechat.baseUrl).toBe(emulator.url);
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).kf_list).toHaveLength(5);
  });

  it('given a fixed port and two accounts, then the URL uses it and credentials are distinct', async () => {
    const probe = await start();
    const port = Number(new URL(probe.url).port);
    await probe.stop();
    const emulator = await startEmulator({ port, wechat: { accounts: 2 } });
    running.push(emulator);
    expect(emulator.url).toBe(`http://127.0.0.1:${port}`);
    const [a, b] = emulator.wechat.accounts;
    expect(a!.appId).toMatch(/^wx[0-9a-f]{16}$/);
    expect(a!.appId).not.toBe(b!.appId);
    expect(a!.secret).not.toBe(b!.secret);
  });

  it('given invalid options, then startEmulator throws EMULATOR_OPTIONS_INVALID naming the field', async () => {
    const attempt = startEmulator({ port: -1 });
    await expect(attempt).rejects.toSatisfy((error) => isKefuError(error) && error.code === 'EMULATOR_OPTIONS_INVALID');
    await expect(startEmulator({ faults: { serverErrorRate: 2 } })).rejects.toThrow(/faults\.serverErrorRate/);
    await expect(startEmulator({ wechat: { recordsPerDy: 5 } as never })).rejects.toThrow(/wechat/);
  });

  it('given an unknown path, then it answers 404 and logs it', async () => {
    const emulator = await start();
    const response = await request(`${emulator.url}/nowhere`);
    await response.body.text();
    expect(response.statusCode).toBe(404);
    expect(emulator.requests.count({ path: '/nowhere', status: 404, platform: 'none' })).toBe(1);
  });

  it('given requests, then the log records method, path, redacted query, status and errcode, and can be cleared', async () => {
    const emulator = await start();
    const token = await tokenFor(emulator);
    await kfList(emulator, token);
    await kfList(emulator, 'x');
    const entries = emulator.requests.entries();
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({ platform: 'wechat', method: 'GET', path: '/cgi-bin/token', status: 200 });
    expect(entries[0]!.query.secret).toBe('[redacted]');
    expect(entries[1]!.query.access_token).toBe('[redacted]');
    expect(entries[2]).toMatchObject({ status: 200, errcode: 40014 });
    expect(entries[2]!.at).toBeGreaterThanOrEqual(NOW);
    expect(emulator.requests.count({ path: /getkflist/ })).toBe(2);
    emulator.requests.clear();
    expect(emulator.requests.count()).toBe(0);
  });

  it('given /__emulator/memory, then it answers the server process memory figures in bytes', async () => {
    const emulator = await start();
    const response = await request(`${emulator.url}/__emulator/memory`);
    const memory = (await response.body.json()) as Record<string, number>;
    expect(memory.rss).toBeGreaterThan(1024 * 1024);
    expect(memory.heapUsed).toBeGreaterThan(0);
  });

  it('given stop, then the server refuses new connections and stop is idempotent', async () => {
    const emulator = await start();
    await emulator.stop();
    await emulator.stop();
    await expect(request(`${emulator.url}/cgi-bin/token`)).rejects.toThrow();
  });
});

describe('transport faults', () => {
  it('given serverErrorRate 1, then API calls answer 502/503 but token endpoints are exempt', async () => {
    const emulator = await start({ serverErrorRate: 1 });
    const token = await tokenFor(emulator);
    const answer = await kfList(emulator, token);
    expect([502, 503]).toContain(answer.status);
    expect(emulator.requests.count({ fault: 'server-error' })).toBe(1);
  });

  it('given pathPattern naming the token endpoint, then faults apply to it too', async () => {
    const emulator = await start({ serverErrorRate: 1, pathPattern: '^/cgi-bin/token$' });
    await expect(tokenFor(emulator)).rejects.toThrow();
    emulator.setFaults({});
    const token = await tokenFor(emulator);
    expect((await kfList(emulator, token)).status).toBe(200);
  });

  it('given connectionResetRate 1, then the client sees a socket error and the log status 0', async () => {
    const emulator = await start({ connectionResetRate: 1 });
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(answer.status).toBe(-1);
    expect(emulator.requests.count({ fault: 'reset', status: 0 })).toBe(1);
  });

  it('given malformedBodyRate 1, then a 200 body is not valid JSON', async () => {
    const emulator = await start({ malformedBodyRate: 1 });
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow();
    expect(emulator.requests.count({ fault: 'malformed' })).toBe(1);
  });

  it('given truncatedBodyRate 1, then reading the body fails before its announced length', async () => {
    const emulator = await start({ truncatedBodyRate: 1 });
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(answer.status).toBe(-1);
    expect(emulator.requests.count({ fault: 'truncated' })).toBe(1);
  });

  it('given slowBodyRate 1, then the body still arrives whole, in chunks', async () => {
    const emulator = await start({ slowBodyRate: 1, slowBodyMs: 100 });
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(JSON.parse(answer.text).kf_list).toHaveLength(5);
    expect(emulator.requests.count({ fault: 'slow' })).toBe(1);
  });

  it('given latency, then answers are delayed and logged with the latency fault', async () => {
    const emulator = await start({ latencyMs: 20, jitterMs: 10 });
    const answer = await kfList(emulator, await tokenFor(emulator));
    expect(answer.status).toBe(200);
    expect(emulator.requests.count({ fault: 'latency' })).toBe(1);
  });

  it('given the same fault seed, then two runs meet the same faults in the same places', async () => {
    const faults = { serverErrorRate: 0.3, malformedBodyRate: 0.2, seed: 7 };
    const statuses = async () => {
      const emulator = await start(faults);
      const token = await tokenFor(emulator);
      for (let i = 0; i < 30; i++) await kfList(emulator, token);
      return emulator.requests.entries().map((entry) => entry.fault ?? 'none');
    };
    const first = await statuses();
    expect(first).toEqual(await statuses());
    expect(first).toContain('server-error');
    expect(first).toContain('malformed');
    expect(first).toContain('none');
  });
});

describe('WeChat platform faults', () => {
  it('given wechatBusyRate 1 or wechatMinuteQuotaRate 1, then calls answer -1 or 45011', async () => {
    const emulator = await start({ wechatBusyRate: 1 });
    const token = await tokenFor(emulator);
    expect(JSON.parse((await kfList(emulator, token)).text).errcode).toBe(-1);
    emulator.setFaults({ wechatMinuteQuotaRate: 1 });
    expect(JSON.parse((await kfList(emulator, token)).text).errcode).toBe(45011);
    expect(emulator.requests.count({ fault: 'busy', errcode: -1 })).toBe(1);
    expect(emulator.requests.count({ fault: 'minute-quota', errcode: 45011 })).toBe(1);
  });

  it('given wechatDailyQuotaAfterCalls 2, then the third record call answers 45009 until setFaults', async () => {
    const emulator = await start({ wechatDailyQuotaAfterCalls: 2 });
    const token = await tokenFor(emulator);
    const start_ = Math.floor(NOW / 1000) - 7200;
    const records = async () => {
      const response = await request(`${emulator.url}/customservice/msgrecord/getmsglist?access_token=${token}`, {
        method: 'POST',
        body: JSON.stringify({ starttime: start_, endtime: start_ + 3600, msgid: 1, number: 10 }),
      });
      return JSON.parse(await response.body.text());
    };
    expect((await records()).recordlist).toEqual(expect.any(Array));
    expect((await records()).recordlist).toEqual(expect.any(Array));
    expect(JSON.parse((await kfList(emulator, token)).text).kf_list).toEqual(expect.any(Array));
    expect((await records()).errcode).toBe(45009);
    emulator.setFaults({ wechatDailyQuotaAfterCalls: 2 });
    expect((await records()).recordlist).toEqual(expect.any(Array));
  });

  it('given revokeTokenEveryCalls 3, then every third call answers 40001 and the token stays revoked', async () => {
    const emulator = await start({ revokeTokenEveryCalls: 3 });
    const token = await tokenFor(emulator);
    const codes: Array<number | undefined> = [];
    for (let i = 0; i < 4; i++) codes.push(JSON.parse((await kfList(emulator, token)).text).errcode);
    expect(codes).toEqual([undefined, undefined, 40001, 40001]);
    const fresh = await tokenFor(emulator);
    expect(JSON.parse((await kfList(emulator, fresh)).text).kf_list).toEqual(expect.any(Array));
    expect(emulator.requests.count({ fault: 'revoked' })).toBe(1);
  });
});
