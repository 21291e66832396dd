import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KefuRecord } from '@kefu/core';
import { seededRandom } from '@kefu/testkit';
import { verifyKefuSignature } from '../src/index.js';

/** What the receiver does with one request. */
export type ReceiverFault =
  | 'ok'
  | 'server-error' // 503
  | 'reset' // destroys the socket before reading the body
  | 'accept-then-reset' // stores the batch, then destroys the socket: the sender must retry, a duplicate follows
  | 'slow' // answers 200 after `slowMs`
  | 'too-slow' // stores the batch, answers after `tooSlowMs` (beyond the sender's timeout)
  | 'rate-limited'; // 429 with Retry-After

/** Options of {@link startWebhookReceiver}. */
export interface WebhookReceiverOptions {
  secret: string;
  /** Share of requests per fault, drawn with a seeded PRNG after the scripted ones. */
  shares?: Partial<Record<Exclude<ReceiverFault, 'ok'>, number>>;
  /** Faults for the first requests, in order, before the random ones. */
  script?: ReceiverFault[];
  seed?: number;
  slowMs?: number;
  tooSlowMs?: number;
  retryAfter?: string;
  /** Answers 400 to batches this returns true for (a permanent rejection). */
  rejects?: (records: KefuRecord[]) => boolean;
}

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  key: string;
  attempt: number;
  fault: ReceiverFault;
  /** Undefined when the connection was reset before the body was read. */
  signatureValid: boolean | undefined;
  contentType: string;
  records: KefuRecord[];
}

/** A real HTTP webhook on 127.0.0.1 that misbehaves on purpose. */
export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Batches the receiver stored (answered 2xx or stored before a fault), in arrival order; may repeat keys. */
  stored: Array<{ key: string; records: KefuRecord[] }>;
  /** When true, every request gets 503 (for failure-injection checks). */
  down: boolean;
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  connections: number;
  /** Most requests being handled at the same moment. */
  maxConcurrent: number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseRecords(body: Buffer, contentType: string): KefuRecord[] {
  const text = body.toString('utf8');
  if (contentType.startsWith('application/x-ndjson'))
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as KefuRecord);
  return JSON.parse(text) as KefuRecord[];
}

/** Starts a receiver on an ephemeral loopback port. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const random = seededRandom(options.seed ?? 1);
  const script = [...(options.script ?? [])];
  const shares = Object.entries(options.shares ?? {}) as Array<[ReceiverFault, number]>;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  const pickFault = (): ReceiverFault => {
    const scripted = script.shift();
    if (scripted) return scripted;
    let draw = random();
    for (const [fault, share] of shares) {
      if (draw < share) return fault;
      draw -= share;
    }
    return 'ok';
  };

  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    stored: [],
    down: false,
    connections: 0,
    maxConcurrent: 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const fault = receiver.down ? 'server-error' : pickFault();
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (fault === 'reset') {
      const attempt = Number(header('x-kefu-attempt'));
      receiver.requests.push({
        key: header('idempotency-key') ?? '',
        attempt,
        fault,
        signatureValid: undefined,
        contentType: '',
        records: [],
      });
      request.socket.destroy();
      return;
    }
    const body = await readBody(request);
    const contentType = header('content-type') ?? '';
    const records = parseRecords(body, contentType);
    const key = header('idempotency-key') ?? '';
    const signatureValid = verifyKefuSignature({
      secret: options.secret,
      timestamp: header('x-kefu-timestamp'),
      signature: header('x-kefu-signature'),
      body,
    });
    receiver.requests.push({
      key,
      attempt: Number(header('x-kefu-attempt')),
      fault,
      signatureValid,
      contentType,
      records,
    });
    if (!signatureValid) return void response.writeHead(401).end('bad signature');
    if (options.rejects?.(records)) return void response.writeHead(400).end('{"error":"schema"}');
    switch (fault) {
      case 'server-error':
        return void response.writeHead(503).end('busy');
      case 'rate-limited':
        return void response.writeHead(429, { 'retry-after': options.retryAfter ?? '0' }).end();
      case 'accept-then-reset':
        receiver.stored.push({ key, records });
        request.socket.destroy();
        return;
      case 'slow':
        return later(options.slowMs ?? 20, () => {
          receiver.stored.push({ key, records });
          response.writeHead(204).end();
        });
      case 'too-slow':
        receiver.stored.push({ key, records });
        return later(options.tooSlowMs ?? 500, () => response.writeHead(204).end());
      default:
        receiver.stored.push({ key, records });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
  };

  let concurrent = 0;
  const server: Server = createServer((request, response) => {
    concurrent += 1;
    receiver.maxConcurrent = Math.max(receiver.maxConcurrent, concurrent);
    let done = false;
    const finish = () => {
      if (!done) concurrent -= 1;
      done = true;
    };
    response.on('close', finish);
    handle(request, response).catch(() => request.socket.destroy());
  });
  server.on('connection', () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/kefu?tenant=t1`;
  return receiver;
}
