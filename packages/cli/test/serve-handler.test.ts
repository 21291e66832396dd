import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServeHandler, type ServeHandler } from '@kefu/cli';
import { type KefuRecord, PushSpool, type RecordBatch, type RecordSink, SpoolDrainer } from '@kefu/core';
import { callbackSignature, decodeEncodingAesKey, encryptMessage } from '@kefu/wechat-crypto';
import { WechatPushReceiver } from '@kefu/wechat-mp';
import { YoumiPushReceiver, youmiCallbackSignature } from '@kefu/youmi';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// The official example of the third-party platform push page (XML, safe mode), as in
// packages/wechat-crypto/test/support/vectors.ts (officialXmlInbound).
const official = {
  token: 'AAAAA',
  encodingAesKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  appId: 'wx134c8103faa5a59e',
  timestamp: '1715943329',
  nonce: '1590219412',
  msgSignature: '6c12a4205838198b8fa631b3220723bb07f1015c',
  body: `<xml>
    <ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>
    <Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt>
</xml>`,
};
/** The official URL check (GET) of the message push page. */
const urlCheck = {
  timestamp: '1714036504',
  nonce: '1514711492',
  echostr: '4375120948345356249',
  signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
};

const APP = 'wx_serve_test';
const TOKEN = 'serve-token';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const PATH_SECRET = 'p4th-secret-0123456789abcdef';
const HMAC_SECRET = 'hmac-secret-0123456789';

class MemorySink implements RecordSink {
  readonly id = 'memory';
  readonly guarantee = 'at-least-once' as const;
  readonly records: KefuRecord[] = [];
  async write(batch: RecordBatch): Promise<void> {
    this.records.push(...batch.records);
  }
  async close(): Promise<void> {}
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-serve-handler-'));
  return () => rmSync(scratch, { recursive: true, force: true });
});

interface Harness {
  url: string;
  spool: PushSpool;
  sink: MemorySink;
  serve: ServeHandler;
  drainer: SpoolDrainer;
  server: Server;
}
let harness: Harness | undefined;
afterEach(async () => {
  if (!harness) return;
  const { server, drainer, spool } = harness;
  harness = undefined;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await drainer.stop();
  spool.close();
});

/** A plain node:http server with the serve handler mounted under it, beside the app's own route. */
async function start(options: { now?: () => number; bodyTimeoutMs?: number } = {}): Promise<Harness> {
  const spool = PushSpool.open({ path: join(scratch, `${randomBytes(4).toString('hex')}.sqlite`) });
  const sink = new MemorySink();
  const drainer = new SpoolDrainer({ spool, sinks: [sink] });
  drainer.start();
  const now = options.now ?? Date.now;
  const serve = createServeHandler({
    receivers: [
      new WechatPushReceiver({
        appId: official.appId,
        token: official.token,
        encodingAesKey: official.encodingAesKey,
        now,
      }),
      new WechatPushReceiver({ appId: APP, token: TOKEN, encodingAesKey: AES_KEY }),
      new YoumiPushReceiver({
        providerId: 'youmi',
        callbacks: { pathSecret: PATH_SECRET, hmacSecret: HMAC_SECRET, timestampWindowSeconds: 300 },
      }),
    ],
    spool,
    limits: { maxBodyBytes: 64 * 1024, bodyTimeoutMs: options.bodyTimeoutMs ?? 5_000 },
  });
  const server = createServer((request, response) => {
    if (serve.owns(new URL(request.url ?? '/', 'http://x').pathname)) return serve.handler(request, response);
    response.end('the application');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  harness = { url, spool, sink, serve, drainer, server };
  return harness;
}

function nowSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

/** A push as WeChat sends it to APP: plaintext, compatible (plain fields + Encrypt) or safe (Encrypt only). */
function wechatPush(xml: string, mode: 'plaintext' | 'compatible' | 'safe', timestamp = nowSeconds()) {
  const nonce = String(Math.floor(Math.random() * 1e9));
  const signature = callbackSignature([TOKEN, timestamp, nonce]);
  if (mode === 'plaintext') return { query: `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, body: xml };
  const encrypt = encryptMessage(decodeEncodingAesKey(AES_KEY), xml, APP, randomBytes);
  const msgSignature = callbackSignature([TOKEN, timestamp, nonce, encrypt]);
  const inner =
    mode === 'compatible' ? xml.replace(/^<xml>|<\/xml>$/g, '') : '<ToUserName><![CDATA[gh_1]]></ToUserName>';
  return {
    query: `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=o1&encrypt_type=aes&msg_signature=${msgSignature}`,
    body: `<xml>${inner}<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  };
}

function textPush(msgId: string, content: string, from = 'o_customer'): string {
  return `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${nowSeconds()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml', ...headers } });
  return { status: response.status, text: await response.text() };
}

async function drained(h: Harness): Promise<void> {
  await expect.poll(() => h.spool.depth()).toBe(0);
}

describe('createServeHandler mounted in a plain node:http server — WeChat', () => {
  it('given the official safe-mode example, then it is acknowledged `success` and stored as a record', async () => {
    const h = await start({ now: () => Number(official.timestamp) * 1000 });
    const query = `timestamp=${official.timestamp}&nonce=${official.nonce}&encrypt_type=aes&msg_signature=${official.msgSignature}`;
    expect(await post(`${h.url}/wechat/${official.appId}?${query}`, official.body)).toEqual({
      status: 200,
      text: 'success',
    });
    await drained(h);
    expect(h.sink.records).toEqual([
      expect.objectContaining({
        provider: 'wechat-mp',
        account: official.appId,
        customer: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
        kind: 'event',
      }),
    ]);
    expect(await (await fetch(`${h.url}/other`)).text()).toBe('the application');
  });

  it('given the official URL check, then echostr is answered unchanged; with a wrong signature, 401', async () => {
    const h = await start({ now: () => Number(urlCheck.timestamp) * 1000 });
    const query = new URLSearchParams(urlCheck).toString();
    const ok = await fetch(`${h.url}/wechat/${official.appId}?${query}`);
    expect([ok.status, await ok.text()]).toEqual([200, urlCheck.echostr]);
    const bad = await fetch(`${h.url}/wechat/${official.appId}?${query.replace('signature=f', 'signature=0')}`);
    expect(bad.status).toBe(401);
  });

  it.each(['plaintext', 'compatible', 'safe'] as const)(
    'given a %s push with multibyte text, then the record carries the text exactly; a retry is acknowledged and stored once',
    async (mode) => {
      const h = await start();
      const text = '你好，客服 😀 — ümlaut & <tags>'.replace('<tags>', '');
      const push = wechatPush(textPush('6265881059295447969', text), mode);
      for (let attempt = 0; attempt < 3; attempt++) {
        expect(await post(`${h.url}/wechat/${APP}?${push.query}`, push.body)).toEqual({ status: 200, text: 'success' });
      }
      await drained(h);
      expect(h.sink.records).toHaveLength(1);
      expect(h.sink.records[0]).toMatchObject({ text, customer: 'o_customer' });
      expect(h.sink.records[0]?.raw).toMatchObject({ MsgId: '6265881059295447969' });
    },
  );

  it('given bad pushes, then each gets its 4xx and nothing is written', async () => {
    const h = await start();
    const good = wechatPush(textPush('1', 'x'), 'safe');
    const cases: Array<[string, Promise<{ status: number }>]> = [
      [
        'wrong signature',
        post(
          `${h.url}/wechat/${APP}?${good.query.replace(/msg_signature=(\w)/, (_, c: string) => `msg_signature=${c === '0' ? '1' : '0'}`)}`,
          good.body,
        ),
      ],
      [
        'stale timestamp',
        (() => {
          const stale = wechatPush(textPush('2', 'x'), 'safe', String(Math.floor(Date.now() / 1000) - 3600));
          return post(`${h.url}/wechat/${APP}?${stale.query}`, stale.body);
        })(),
      ],
      [
        'truncated body',
        (() => {
          const plain = wechatPush(textPush('3', 'x'), 'plaintext');
          return post(`${h.url}/wechat/${APP}?${plain.query}`, plain.body.slice(0, plain.body.length - 20));
        })(),
      ],
      [
        'XML bomb',
        (() => {
          const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><ToUserName>&lol2;</ToUserName></xml>`;
          const plain = wechatPush(bomb, 'plaintext');
          return post(`${h.url}/wechat/${APP}?${plain.query}`, plain.body);
        })(),
      ],
      [
        'deep nesting',
        (() => {
          const deep = `<xml>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</xml>`;
          const plain = wechatPush(deep, 'plaintext');
          return post(`${h.url}/wechat/${APP}?${plain.query}`, plain.body);
        })(),
      ],
      [
        'oversize body',
        (() => {
          const plain = wechatPush(textPush('4', 'x'.repeat(70 * 1024)), 'plaintext');
          return post(`${h.url}/wechat/${APP}?${plain.query}`, plain.body);
        })(),
      ],
      [
        'not a push',
        (() => {
          const plain = wechatPush('<xml><Foo>1</Foo></xml>', 'plaintext');
          return post(`${h.url}/wechat/${APP}?${plain.query}`, plain.body);
        })(),
      ],
    ];
    const statuses = Object.fromEntries(
      await Promise.all(cases.map(async ([name, answer]) => [name, (await answer).status])),
    );
    expect(statuses).toEqual({
      'wrong signature': 401,
      'stale timestamp': 401,
      'truncated body': 400,
      'XML bomb': 400,
      'deep nesting': 400,
      'oversize body': 413,
      'not a push': 400,
    });
    expect(h.spool.depth()).toBe(0);
    expect(h.sink.records).toEqual([]);
    const metrics = (await h.serve.metrics.exposition()).body;
    expect(metrics).toContain('reason="forbidden_dtd"');
    expect(metrics).toContain('reason="body_too_large"');
  });

  it('given a push encrypted for another AppID, then 403 and nothing written', async () => {
    const h = await start();
    const timestamp = nowSeconds();
    const encrypt = encryptMessage(decodeEncodingAesKey(AES_KEY), textPush('9', 'x'), 'wx_someone_else', randomBytes);
    const msgSignature = callbackSignature([TOKEN, timestamp, 'n', encrypt]);
    const answer = await post(
      `${h.url}/wechat/${APP}?timestamp=${timestamp}&nonce=n&encrypt_type=aes&msg_signature=${msgSignature}`,
      `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    );
    expect(answer.status).toBe(403);
    expect(h.spool.depth()).toBe(0);
  });

  it('given a client that sends headers and then trickles its body (slow loris), then it is cut with 408 and nothing is written', async () => {
    const h = await start({ bodyTimeoutMs: 300 });
    const { port } = new URL(h.url);
    const push = wechatPush(textPush('5', 'x'), 'plaintext');
    const socket = connect(Number(port), '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
    });
    socket.write(
      `POST /wechat/${APP}?${push.query} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(push.body)}\r\n\r\n${push.body.slice(0, 10)}`,
    );
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
    expect(h.spool.depth()).toBe(0);
  });
});

describe('createServeHandler — Youmi callbacks', () => {
  const chat = {
    ad_chatting_id: 1_000_123,
    ad_chatting_talter: 'wxid_fan0001',
    ad_chatting_issend: 0,
    ad_chatting_resvred: null,
    ad_wechat_id: 10001,
    merchantid: 'M1',
    ad_chatting_updatetime: '2026-11-20 10:00:00',
    ad_chatting_sate: 1,
    ad_sermsgid: '4611686018427387905',
    ad_chatting_time: '2026-11-20 10:00:00',
    ad_chatting_content: '你好',
    ad_staff_code: null,
    ad_voice_txt: null,
    ad_friend_photo: 'https://wx.qlogo.cn/a/132',
    ad_friend_name: '小鱼儿',
    ad_expand: '',
    ad_wechat_nober: 'wxid_account',
  };
  const body = JSON.stringify({ eventType: 'chat', merchantId: 'M1', values: [chat] });
  const signed = (payload: string, timestamp = nowSeconds()) => ({
    'content-type': 'text/json',
    'x-kefu-timestamp': timestamp,
    'x-kefu-signature': youmiCallbackSignature(HMAC_SECRET, timestamp, payload),
  });

  it('given an unsigned, a forged, a wrongly-pathed and a stale callback, then 401/403 and nothing written', async () => {
    const h = await start();
    const url = `${h.url}/youmi/youmi/${PATH_SECRET}`;
    const answers = await Promise.all([
      post(url, body, { 'content-type': 'text/json' }),
      post(url, body, { ...signed(body), 'x-kefu-signature': `sha256=${'0'.repeat(64)}` }),
      post(`${h.url}/youmi/youmi/not-the-secret-000000000000`, body, signed(body)),
      post(`${h.url}/youmi/youmi`, body, signed(body)),
      post(url, body, signed(body, String(Math.floor(Date.now() / 1000) - 3600))),
      post(url, body.replace('你好', '你坏'), signed(body)),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 403, 403, 401, 401]);
    expect(h.spool.depth()).toBe(0);
    expect(h.sink.records).toEqual([]);
  });

  it('given one signed callback replayed 50 times, then every replay is acknowledged and one record is stored', async () => {
    const h = await start();
    const headers = signed(body);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(`${h.url}/youmi/youmi/${PATH_SECRET}`, body, headers)),
    );
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
    expect(JSON.parse(answers[0]?.text ?? '')).toMatchObject({ succeed: true });
    await drained(h);
    expect(h.sink.records.map((record) => record.id)).toEqual(['10001:1000123']);
    expect((await h.serve.metrics.exposition()).body).toMatch(
      /kefu_pushes_total\{receiver="youmi\/youmi",outcome="duplicate",reason=""\} 49/,
    );
  });
});
