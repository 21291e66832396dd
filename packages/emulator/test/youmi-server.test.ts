import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import type { YoumiEmulatorDescription } from '../src/youmi/index.js';

// The Youmi platform behind the emulator's real HTTP server (transport faults, request log).
const START = Date.UTC(2026, 0, 15, 4, 30, 0);

let emulator: RunningEmulator;
let info: YoumiEmulatorDescription;

beforeEach(async () => {
  emulator = await startEmulator({ seed: 'server-test', now: START, youmi: { fansPerAccount: 4, chatsPerFan: 10 } });
  info = emulator.youmi;
});
afterEach(() => emulator.stop());

async function fetchToken(): Promise<{ status: number; token?: string }> {
  const response = await request(info.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
    }).toString(),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    ...(response.statusCode === 200 ? { token: JSON.parse(text).access_token } : {}),
  };
}

async function fansCount(token: string | undefined) {
  const response = await request(`${info.baseUrl}/v2/Friend/GetFansCount`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ wechatId: info.wechatIds[0], fansKe: '' }),
  });
  return { status: response.statusCode, text: await response.body.text() };
}

describe('Youmi behind the emulator server', () => {
  it('given serverErrorRate 1, then API calls fail with 502/503 but the token endpoint is exempt', async () => {
    emulator.setFaults({ serverErrorRate: 1 });
    const { status, token } = await fetchToken();
    expect(status).toBe(200);
    expect([502, 503]).toContain((await fansCount(token)).status);
    expect(emulator.requests.entries().map((entry) => [entry.platform, entry.path, entry.fault])).toEqual([
      ['youmi', '/connect/token', undefined],
      ['youmi', '/v2/Friend/GetFansCount', 'server-error'],
    ]);
  });

  it('given a pathPattern naming the token endpoint, then it gets faults too', async () => {
    emulator.setFaults({ serverErrorRate: 1, pathPattern: '^/connect/token' });
    expect([502, 503]).toContain((await fetchToken()).status);
  });

  it('given revokeTokenEveryCalls 2, then the second call is refused and logged as a revoked-token fault', async () => {
    emulator.setFaults({ revokeTokenEveryCalls: 2 });
    const { token } = await fetchToken();
    expect(JSON.parse((await fansCount(token)).text)).toMatchObject({ succeed: true, values: 4 });
    // 10003 令牌失效 (platforms/youmi-api.md §1.3), the default reading of a refused token.
    expect(JSON.parse((await fansCount(token)).text)).toMatchObject({ succeed: false, errmsg: 10003 });
    expect(emulator.requests.entries().at(-1)).toMatchObject({ platform: 'youmi', status: 200, fault: 'revoked' });
  });
});
