// Pushes per second accepted end-to-end by kefu serve's handler (WeChat plaintext pushes,
// verified, parsed, fsynced into the push spool before `success`, drained into SQLite) and
// the p50/p99 acknowledgement latency, against a bare node:http handler that only parses the
// XML and answers. Run after a build: `pnpm build && pnpm --filter @kefu/bench bench:push-ack`
// It prints figures and ratios and asserts nothing. The SQLite sink runs on the main thread
// (its default) and then on a worker thread: a commit on the main thread holds the answers.
// BENCH_SQLITE_THREADS=main,worker (the default) chooses which.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServeHandler } from '@kefu/cli';
import { PushSpool, SpoolDrainer } from '@kefu/core';
import { DatabaseSink } from '@kefu/sink-db';
import { callbackSignature, readWechatXml } from '@kefu/wechat-crypto';
import { WechatPushReceiver } from '@kefu/wechat-mp';
import { Agent, request } from 'undici';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const APP = 'wx_bench';
const TOKEN = 'bench-token';

function push(i) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(i);
  const xml = `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_${i % 500}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[消息 ${i}: 您好，请问有什么可以帮您？ 🙂]]></Content><MsgId>${7_000_000_000_000_000_000n + BigInt(i)}</MsgId></xml>`;
  const query = `signature=${callbackSignature([TOKEN, timestamp, nonce])}&timestamp=${timestamp}&nonce=${nonce}`;
  return { path: `/wechat/${APP}?${query}`, body: xml };
}

async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Sends PUSHES pushes, CONCURRENCY at a time, keep-alive; returns rate and latencies. */
async function drive(origin) {
  const dispatcher = new Agent({ connections: CONCURRENCY });
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PUSHES) {
        const { path, body } = push(next++);
        const sent = performance.now();
        const response = await request(`${origin}${path}`, { method: 'POST', body, dispatcher });
        const text = await response.body.text();
        if (response.statusCode !== 200 || text !== 'success')
          throw new Error(`answered ${response.statusCode} ${text}`);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rate: PUSHES / seconds, p50: at(0.5), p99: at(0.99), seconds };
}

async function bare() {
  const { server, origin } = await listen((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      readWechatXml(Buffer.concat(chunks).toString('utf8'));
      res.end('success');
    });
  });
  try {
    return await drive(origin);
  } finally {
    server.close();
  }
}

async function kefu(sqliteThread) {
  const dir = await mkdtemp(join(tmpdir(), 'kefu-bench-push-'));
  const spool = PushSpool.open({ path: join(dir, 'spool.sqlite') });
  const sink = new DatabaseSink({ url: join(dir, 'kefu.db'), id: 'db', sqliteThread });
  const drainer = new SpoolDrainer({ spool, sinks: [sink] });
  drainer.start();
  const serve = createServeHandler({ receivers: [new WechatPushReceiver({ appId: APP, token: TOKEN })], spool });
  const { server, origin } = await listen(serve.handler);
  try {
    const result = await drive(origin);
    const drainStarted = performance.now();
    while (spool.depth() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const stored = await sink.countRecords({});
    return { ...result, endToEndRate: PUSHES / (result.seconds + (performance.now() - drainStarted) / 1000), stored };
  } finally {
    server.close();
    await drainer.stop();
    spool.close();
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (value) => value.toFixed(value < 10 ? 2 : 0);
const threads = (process.env.BENCH_SQLITE_THREADS ?? 'main,worker').split(',');
const baseline = await bare();
console.log(`${PUSHES} WeChat plaintext pushes, ${CONCURRENCY} concurrent keep-alive connections`);
console.log(
  `bare node:http (parse + answer):   ${fmt(baseline.rate)} pushes/s, ack p50 ${fmt(baseline.p50)} ms, p99 ${fmt(baseline.p99)} ms`,
);
for (const thread of threads) {
  const durable = await kefu(thread);
  console.log(
    `kefu serve handler (durable ack, SQLite on the ${thread} thread): ${fmt(durable.rate)} pushes/s, ack p50 ${fmt(durable.p50)} ms, p99 ${fmt(durable.p99)} ms; ` +
      `${fmt(durable.endToEndRate)} pushes/s into SQLite end to end (${durable.stored} records stored)`,
  );
  console.log(
    `ratio kefu / bare: ${(durable.rate / baseline.rate).toFixed(2)} (throughput), ${(durable.p99 / baseline.p99).toFixed(2)} (p99 latency)`,
  );
}
