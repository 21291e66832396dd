import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServeHandler } from '@kefu/cli';
import { type KefuRecord, PushSpool, type RecordBatch, type RecordSink, SpoolDrainer } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { WechatPushReceiver } from '@kefu/wechat-mp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// The spacing of WeChat's push retries is an open point (docs/providers/wechat-mp.md): the
// emulator sends them back-to-back, at a fixed spacing, or a deadline apart (the commonly
// reported "5 s timeouts × 3"). Under each reading, the receiver `kefu serve` mounts must store
// each push once and answer `success` only after the spool committed it.

const TOKEN = 'spacing-token';
const AES_KEY = 'spacingKey000000000000000000000000000000000';
const READINGS = ['back-to-back', 'fixed', 'deadline'] as const;

class MemorySink implements RecordSink {
  readonly id = 'memory';
  readonly guarantee = 'at-least-once' as const;
  readonly records: KefuRecord[] = [];
  async write(batch: RecordBatch): Promise<void> {
    this.records.push(...batch.records);
  }
  async close(): Promise<void> {}
}

interface Delivery {
  msgId?: string;
  acknowledged: boolean;
  attempts: Array<{ attempt: number; acknowledged: boolean; startedAt: number; endedAt: number }>;
}

/** What the first try of the next push meets before (or after) it reaches the handler. */
type FirstTry = 'store-fails' | 'answer-lost' | 'answer-late';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-retry-spacing-'));
  return () => rmSync(scratch, { recursive: true, force: true });
});

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/**
 * The serve handler behind a tiny gate that spoils the first try of each push as `firstTry`
 * says: its records cannot be stored (the handler must not ack), or it is stored but the
 * answer is lost (the socket is cut) or arrives after WeChat's deadline (WeChat retries).
 */
async function receiverBehindGate(appId: string, deadlineMs: number) {
  const spool = PushSpool.open({ path: join(scratch, `${appId}-${Date.now()}.sqlite`) });
  const sink = new MemorySink();
  const drainer = new SpoolDrainer({ spool, sinks: [sink] });
  drainer.start();
  const gate = { firstTry: 'store-fails' as FirstTry, tries: 0, storeRefusals: 0 };
  const serve = createServeHandler({
    receivers: [new WechatPushReceiver({ appId, token: TOKEN, encodingAesKey: AES_KEY })],
    spool,
    prepareRecords: (records) => {
      if (gate.firstTry === 'store-fails' && gate.tries === 1) {
        gate.storeRefusals += 1;
        throw new Error('the store is not reachable right now');
      }
      return records;
    },
  });
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    gate.tries += 1;
    if (gate.tries === 1 && gate.firstTry === 'answer-lost') {
      response.end = (() => {
        request.socket.destroy();
        return response;
      }) as ServerResponse['end'];
    }
    if (gate.tries === 1 && gate.firstTry === 'answer-late') {
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      response.end = ((...args: unknown[]) => {
        setTimeout(() => end(...args), deadlineMs + 200);
        return response;
      }) as ServerResponse['end'];
    }
    serve.handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await drainer.stop();
    spool.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat/${appId}`, spool, sink, gate };
}

async function control(emulator: RunningEmulator, method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.url}/__emulator/wechat/${path}`, { method, body: JSON.stringify(body) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return answer;
}

describe.each(READINGS)('the push receiver under the `%s` retry spacing', (retrySpacing) => {
  it.each(['plaintext', 'safe'] as const)(
    'given first tries that cannot be stored, are stored but lose their answer, or answer late (%s mode), then every push is stored once and acknowledged only after it was stored',
    async (mode) => {
      const emulator = await startEmulator({ seed: 'spacing', wechat: { accounts: 1, days: 1, recordsPerDay: 1 } });
      cleanup.push(() => emulator.stop());
      const appId = emulator.wechat.accounts[0]?.appId as string;
      // Long enough for a loaded machine to store a push within one try.
      const deadlineMs = 2_000;
      const receiver = await receiverBehindGate(appId, deadlineMs);
      await control(emulator, 'PUT', 'push-target', {
        appid: appId,
        url: receiver.url,
        token: TOKEN,
        encodingAesKey: AES_KEY,
        mode,
        deadlineMs,
        retrySpacing,
        retrySpacingMs: 100,
      });
      const scenarios: Array<[FirstTry, Record<string, unknown>]> = [
        ['store-fails', { kind: 'text', text: '第一条 😀' }],
        ['answer-lost', { kind: 'text', text: 'second' }],
        ['answer-late', { kind: 'kf_create_session', kfAccount: 'kf1001@test' }],
      ];
      const deliveries: Delivery[] = [];
      for (const [firstTry, push] of scenarios) {
        Object.assign(receiver.gate, { firstTry, tries: 0 });
        deliveries.push(
          (await control(emulator, 'POST', 'push', { appid: appId, openid: `o_${firstTry}`, ...push })) as Delivery,
        );
      }

      // Every push ends acknowledged, on its second try: the first was never acked.
      expect(deliveries.map((delivery) => delivery.attempts.map((attempt) => attempt.acknowledged))).toEqual([
        [false, true],
        [false, true],
        [false, true],
      ]);
      // The store refused the first try: no ack without the commit.
      expect(receiver.gate.storeRefusals).toBe(1);
      await expect.poll(() => receiver.spool.depth()).toBe(0);
      expect(receiver.sink.records.map((record) => record.customer).sort()).toEqual(
        ['o_answer-late', 'o_answer-lost', 'o_store-fails'].sort(),
      );
      expect(receiver.sink.records.find((record) => record.customer === 'o_store-fails')?.text).toBe('第一条 😀');
    },
    60_000,
  );
});
