import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WechatCallbackCrypto } from '@kefu/wechat-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';
import { retryPauseMs } from '../src/wechat/push-sender.js';
import { tokenFor } from './wechat-support.js';

// The emulator pushes like WeChat; its crypto is written apart from @kefu/wechat-crypto, so
// here the package checks what the emulator sends (two implementations that must agree).

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const TOKEN = 'push-token';

interface Received {
  query: URLSearchParams;
  body: string;
}

let emulator: RunningEmulator | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  receiver?.closeAllConnections();
  await new Promise((done) => (receiver ? receiver.close(done) : done(undefined)));
  await emulator?.stop();
  emulator = undefined;
  receiver = undefined;
});

/** A server URL that records every try and answers per `answer` (try number → body, or `hang`). */
async function serverUrl(
  answer: (tryNumber: number) => string | 'hang',
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  receiver = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({
      query: new URL(request.url ?? '/', 'http://x').searchParams,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const reply = answer(received.length);
    if (reply !== 'hang') response.end(reply);
  });
  await new Promise<void>((done) => receiver?.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/wechat`, received };
}

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator?.url}/__emulator/wechat/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('emulator WeChat pushes', () => {
  it.each(['plaintext', 'compatible', 'safe'] as const)(
    'given the %s mode, then the push verifies and decrypts with @kefu/wechat-crypto to the documented XML',
    async (mode) => {
      emulator = await startEmulator({ seed: 'push', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
      const appId = emulator.wechat.accounts[0]?.appId as string;
      const { url, received } = await serverUrl(() => 'success');
      await control('PUT', 'push-target', { appid: appId, url, token: TOKEN, encodingAesKey: KEY, mode });
      const sent = await control('POST', 'push', { appid: appId, openid: 'o_1', kind: 'text', text: '你好 😀' });
      expect(sent.body).toMatchObject({
        acknowledged: true,
        attempts: [{ attempt: 1, status: 200, acknowledged: true }],
      });
      const crypto = new WechatCallbackCrypto({ receiveId: appId, token: TOKEN, encodingAesKey: KEY });
      const [push] = received;
      const query = push?.query as URLSearchParams;
      const field = (name: string) => query.get(name) ?? undefined;
      crypto.verifySignature({ signature: field('signature'), timestamp: field('timestamp'), nonce: field('nonce') });
      const xml =
        mode === 'plaintext'
          ? push?.body
          : crypto.decryptXml(push?.body as string, {
              msgSignature: field('msg_signature'),
              timestamp: field('timestamp'),
              nonce: field('nonce'),
            }).message;
      expect(xml).toContain('<Content><![CDATA[你好 😀]]></Content>');
      expect(xml).toContain(`<MsgId>${String(sent.body.msgId)}</MsgId>`);
      expect(push?.body.includes('<Content>')).toBe(mode !== 'safe');
    },
  );

  it('given a server that does not answer within the deadline, then WeChat tries 3 times in all; `resend` repeats the same push', async () => {
    emulator = await startEmulator({ seed: 'push', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
    const appId = emulator.wechat.accounts[0]?.appId as string;
    const { url, received } = await serverUrl(() => 'hang');
    await control('PUT', 'push-target', { appid: appId, url, token: TOKEN, deadlineMs: 200 });
    const sent = await control('POST', 'push', {
      appid: appId,
      openid: 'o_1',
      kind: 'kf_close_session',
      kfAccount: 'kf1@x',
    });
    expect(sent.body).toMatchObject({ acknowledged: false });
    expect((sent.body.attempts as Array<{ error?: string }>).map((attempt) => attempt.error)).toEqual([
      'timeout',
      'timeout',
      'timeout',
    ]);
    expect(received).toHaveLength(3);
    expect(received[0]?.body).toContain(
      '<Event><![CDATA[kf_close_session]]></Event><KfAccount><![CDATA[kf1@x]]></KfAccount>',
    );
    const bad = await control('POST', 'push/resend', { id: 99 });
    expect(bad.status).toBe(400);
  });

  it('given an image, voice and video push, then media/get serves the image and voice bytes, the video URL, and 40007 for an unknown id', async () => {
    emulator = await startEmulator({ seed: 'push', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
    const appId = emulator.wechat.accounts[0]?.appId as string;
    const { url } = await serverUrl(() => 'success');
    await control('PUT', 'push-target', { appid: appId, url, token: TOKEN });
    const token = await tokenFor(emulator, 0);
    const media = async (mediaId: string) =>
      fetch(
        `${emulator?.wechat.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=${encodeURIComponent(mediaId)}`,
      );
    const image = await control('POST', 'push', { appid: appId, openid: 'o_1', kind: 'image' });
    const imageAnswer = await media(image.body.mediaId as string);
    expect(imageAnswer.headers.get('content-type')).toBe('image/jpeg');
    expect([...new Uint8Array(await imageAnswer.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const voice = await control('POST', 'push', { appid: appId, openid: 'o_1', kind: 'voice', text: '识别' });
    expect((await (await media(voice.body.mediaId as string)).arrayBuffer()).byteLength).toBeGreaterThan(6);
    const video = await control('POST', 'push', { appid: appId, openid: 'o_1', kind: 'video' });
    expect(await (await media(video.body.mediaId as string)).json()).toMatchObject({ video_url: expect.any(String) });
    expect(await (await media('nope')).json()).toMatchObject({ errcode: 40007 });
  });

  it('given each retry-spacing reading, then the pause before a retry is what that reading says', () => {
    const previous = { startedAt: 10_000, endedAt: 10_120 };
    const target = { deadlineMs: 5_000, retrySpacingMs: 1_000 };
    expect(retryPauseMs({ ...target, retrySpacing: 'back-to-back' }, previous, 10_120)).toBe(0);
    expect(retryPauseMs({ ...target, retrySpacing: 'fixed' }, previous, 10_120)).toBe(1_000);
    expect(retryPauseMs({ ...target, retrySpacing: 'deadline' }, previous, 10_120)).toBe(4_880);
    // A try that used its whole deadline is retried at once under `deadline`.
    expect(retryPauseMs({ ...target, retrySpacing: 'deadline' }, { startedAt: 0, endedAt: 5_000 }, 5_001)).toBe(0);
  });

  it.each([
    ['back-to-back', 0, 0],
    ['fixed', 150, 0],
    ['deadline', 0, 300],
  ] as const)(
    'given a server that refuses every try and the %s spacing, then the 3 tries are spaced at least as that reading says',
    async (retrySpacing, afterEndMs, afterStartMs) => {
      emulator = await startEmulator({ seed: 'push', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
      const appId = emulator.wechat.accounts[0]?.appId as string;
      const { url, received } = await serverUrl(() => 'not now');
      const target = { appid: appId, url, token: TOKEN, deadlineMs: 300, retrySpacing, retrySpacingMs: 150 };
      expect((await control('PUT', 'push-target', target)).body).toMatchObject({ retrySpacing });
      const sent = await control('POST', 'push', { appid: appId, openid: 'o_1', text: 'x' });
      const attempts = sent.body.attempts as Array<{ startedAt: number; endedAt: number; acknowledged: boolean }>;
      expect(attempts.map((attempt) => attempt.acknowledged)).toEqual([false, false, false]);
      expect(received).toHaveLength(3);
      for (const [i, attempt] of attempts.slice(1).entries()) {
        const before = attempts[i] as { startedAt: number; endedAt: number };
        expect(attempt.startedAt - before.endedAt).toBeGreaterThanOrEqual(afterEndMs);
        expect(attempt.startedAt - before.startedAt).toBeGreaterThanOrEqual(afterStartMs);
      }
    },
  );

  it('given a bad spacing reading, then push-target answers 400 naming the knob', async () => {
    emulator = await startEmulator({ seed: 'push', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
    const appId = emulator.wechat.accounts[0]?.appId as string;
    const answer = await control('PUT', 'push-target', {
      appid: appId,
      url: 'http://127.0.0.1:1/x',
      token: TOKEN,
      retrySpacing: 'sometimes',
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('retrySpacing');
  });
});
