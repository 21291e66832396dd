import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WechatCallbackCrypto } from '@kefu/wechat-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../src/index.js';

// The emulator rings like WeCom (kf_msg_or_event); its crypto is the emulator's own
// push-crypto.ts, so here @kefu/wechat-crypto checks what it sends (two implementations that must agree).

interface Received {
  method: string;
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

/** A callback URL that answers URL verification with `verify`, and POST try n per `answer(n)` (a status, or `hang`). */
async function callbackUrl(
  verify: (query: URLSearchParams) => string,
  answer: (tryNumber: number) => number | 'hang',
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  let posts = 0;
  receiver = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    received.push({ method: request.method ?? '', query, body: Buffer.concat(chunks).toString('utf8') });
    if (request.method === 'GET') return void response.end(verify(query));
    posts += 1;
    const reply = answer(posts);
    if (reply === 'hang') return;
    response.statusCode = reply;
    response.end('');
  });
  await new Promise<void>((done) => receiver?.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/wecom-kf/cb`, received };
}

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator?.url}/__emulator/wecom/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function cryptoFor(running: RunningEmulator) {
  return new WechatCallbackCrypto({ receiveId: running.wecom.corpId, ...running.wecom.callback });
}

/** Answers the verification GET as a correct receiver would. */
function echoPlaintext(running: RunningEmulator) {
  return (query: URLSearchParams) =>
    cryptoFor(running).verifyWecomUrl({
      msgSignature: query.get('msg_signature') ?? undefined,
      timestamp: query.get('timestamp') ?? undefined,
      nonce: query.get('nonce') ?? undefined,
      echostr: query.get('echostr') ?? undefined,
    });
}

describe('emulator WeCom kf_msg_or_event callbacks', () => {
  it('given a verified callback URL, when a customer writes, then the POST verifies, decrypts for the corp to the documented event with the Token sync_msg accepts', async () => {
    emulator = await startEmulator({ seed: 'wecom-cb', wecom: { accounts: 1, messagesPerAccount: 0 } });
    const running = emulator;
    const { url, received } = await callbackUrl(echoPlaintext(running), () => 200);
    const set = await control('PUT', 'callback-target', { url });
    expect(set.status).toBe(200);
    expect(received.map((request) => request.method)).toEqual(['GET']);

    const written = await control('POST', 'customer-message', { text: '在吗' });
    await running.wecom.callbacksSettled();
    const [delivery] = running.wecom.callbacks();
    expect(delivery).toMatchObject({
      id: 1,
      acknowledged: true,
      token: written.body.callbackToken,
      attempts: [{ status: 200 }],
    });
    const post = received[1] as Received;
    expect(post.method).toBe('POST');
    expect(post.body).toContain(`<ToUserName><![CDATA[${running.wecom.corpId}]]></ToUserName>`);
    const decrypted = cryptoFor(running).decryptXml(post.body, {
      msgSignature: post.query.get('msg_signature') ?? undefined,
      timestamp: post.query.get('timestamp') ?? undefined,
      nonce: post.query.get('nonce') ?? undefined,
    });
    const openKfId = running.wecom.accounts[0] as string;
    expect(decrypted.message).toMatch(
      new RegExp(
        `^<xml><ToUserName><!\\[CDATA\\[${running.wecom.corpId}\\]\\]></ToUserName><CreateTime>\\d+</CreateTime><MsgType><!\\[CDATA\\[event\\]\\]></MsgType><Event><!\\[CDATA\\[kf_msg_or_event\\]\\]></Event><Token><!\\[CDATA\\[${String(written.body.callbackToken)}\\]\\]></Token><OpenKfId><!\\[CDATA\\[${openKfId}\\]\\]></OpenKfId></xml>$`,
      ),
    );
    // A receiver with another corp's receiveid refuses it.
    const foreign = new WechatCallbackCrypto({ receiveId: 'wwOTHER', ...running.wecom.callback });
    expect(() =>
      foreign.decryptXml(post.body, {
        msgSignature: post.query.get('msg_signature') ?? undefined,
        timestamp: post.query.get('timestamp') ?? undefined,
        nonce: post.query.get('nonce') ?? undefined,
      }),
    ).toThrow();
  });

  it('given a URL that does not answer the echostr plaintext, then the target is refused and nothing is rung', async () => {
    emulator = await startEmulator({ seed: 'wecom-cb', wecom: { accounts: 1, messagesPerAccount: 0 } });
    const { url, received } = await callbackUrl(
      () => 'not the echo',
      () => 200,
    );
    const set = await control('PUT', 'callback-target', { url });
    expect(set.status).toBe(400);
    expect(JSON.stringify(set.body)).toContain('URL verification');
    emulator.wecom.customerMessage(emulator.wecom.accounts[0] as string, 'x');
    await emulator.wecom.callbacksSettled();
    expect(received.filter((request) => request.method === 'POST')).toHaveLength(0);
    expect(emulator.wecom.callbacks()).toHaveLength(0);
  });

  it.each([
    ['a non-200 answer', () => 503 as const, undefined],
    ['no answer within the deadline', () => 'hang' as const, 'timeout'],
  ])('given %s, then WeCom tries 3 times in all, spaced per retrySpacing', async (_name, answer, error) => {
    emulator = await startEmulator({ seed: 'wecom-cb', wecom: { accounts: 1, messagesPerAccount: 0 } });
    const { url, received } = await callbackUrl(echoPlaintext(emulator), answer);
    await emulator.wecom.setCallbackTarget({ url, deadlineMs: 300, retrySpacing: 'fixed', retrySpacingMs: 50 });
    emulator.wecom.customerMessage(emulator.wecom.accounts[0] as string, 'x');
    await emulator.wecom.callbacksSettled();
    const [delivery] = emulator.wecom.callbacks();
    expect(delivery?.acknowledged).toBe(false);
    expect(delivery?.attempts.map((attempt) => attempt.error)).toEqual([error, error, error]);
    expect(received.filter((request) => request.method === 'POST')).toHaveLength(3);
    const attempts = delivery?.attempts ?? [];
    for (let index = 1; index < attempts.length; index++) {
      expect((attempts[index]?.startedAt ?? 0) - (attempts[index - 1]?.endedAt ?? 0)).toBeGreaterThanOrEqual(49);
    }
  });

  it('given a server that answers 200 on the second try, then the callback stops there', async () => {
    emulator = await startEmulator({ seed: 'wecom-cb', wecom: { accounts: 1, messagesPerAccount: 0 } });
    const { url } = await callbackUrl(echoPlaintext(emulator), (tryNumber) => (tryNumber === 1 ? 500 : 200));
    await emulator.wecom.setCallbackTarget({ url });
    emulator.wecom.customerMessage(emulator.wecom.accounts[0] as string, 'x');
    await emulator.wecom.callbacksSettled();
    expect(emulator.wecom.callbacks()[0]?.attempts.map((attempt) => attempt.status)).toEqual([500, 200]);
  });

  it('given coalesce = coalesced, then messages written together ring once per account with one token; per-message rings each', async () => {
    emulator = await startEmulator({ seed: 'wecom-cb', wecom: { accounts: 2, messagesPerAccount: 0 } });
    const [first, second] = emulator.wecom.accounts as [string, string];
    const { url } = await callbackUrl(echoPlaintext(emulator), () => 200);
    await emulator.wecom.setCallbackTarget({ url, coalesce: 'coalesced', coalesceMs: 100 });
    const tokens = [
      emulator.wecom.customerMessage(first, 'a').callbackToken,
      emulator.wecom.customerMessage(first, 'b').callbackToken,
      emulator.wecom.customerMessage(second, 'c').callbackToken,
    ];
    await emulator.wecom.callbacksSettled();
    expect(tokens[0]).toBe(tokens[1]);
    expect(emulator.wecom.callbacks().map((delivery) => [delivery.openKfId, delivery.msgids.length])).toEqual([
      [first, 2],
      [second, 1],
    ]);
    await emulator.wecom.setCallbackTarget({ url });
    emulator.wecom.customerMessage(first, 'd');
    emulator.wecom.customerMessage(first, 'e');
    await emulator.wecom.callbacksSettled();
    expect(emulator.wecom.callbacks()).toHaveLength(4);
  });
});
