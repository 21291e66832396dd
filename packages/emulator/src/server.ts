import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isKefuError } from '@kefu/core/errors';
import { answerControl, CONTROL_PREFIX, type EmulatorControls } from './control-api.js';
import { emulatorError } from './errors.js';
import {
  chooseTransportFault,
  type FaultOptions,
  faultRoll,
  faultsApplyTo,
  latencyFor,
  type TransportFault,
} from './faults.js';
import type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from './platform.js';
import type { RequestLog } from './request-log.js';

/**
 * The emulator's HTTP server: reads each request whole, asks the platforms in turn to
 * answer, then applies transport faults (latency, 5xx, resets, malformed / truncated /
 * slow bodies) on the way back, like a flaky gateway in front of the real platform, and
 * logs the outcome.
 */

/** Largest request body accepted (the avatar upload limit is 5 MB; leave room for multipart framing). */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** What {@link startHttpServer} needs. */
export interface HttpServerOptions {
  host: string;
  port: number;
  platforms: readonly EmulatedPlatform[];
  clock: EmulatorClock;
  log: RequestLog;
  /** Read on every request so `setFaults` takes effect immediately. */
  faults: () => FaultOptions;
  /** What `/__emulator/` control endpoints act on. */
  controls: EmulatorControls;
}

/** A listening server. */
export interface RunningHttpServer {
  url: string;
  /** Closes the server and destroys open sockets and pending delayed answers. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP server on loopback (or the given host). Longer than 100 lines on purpose: the request handler and
 * the fault layer share the server's state (open sockets, delayed answers); issue 23 leaves
 * splitting them to the emulator's split by API area.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sequence = 0;
  let closing = false;

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || closing) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server: Server = createServer((req, res) => {
    const number = ++sequence;
    handle(req, res, number).catch((error: unknown) => {
      // A platform bug (or a limit of the emulator) must show up as a 500 the test can see, not hang the client.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(emulatorFailure(error)));
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, number: number): Promise<void> {
    const receivedAt = options.clock.now();
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams);
    const body = await readBody(req);
    const entry = { at: receivedAt, method, path: url.pathname, query };
    if (body === undefined) {
      send(
        res,
        413,
        { 'content-type': 'application/json' },
        JSON.stringify({ errcode: 413, errmsg: 'body too large' }),
      );
      options.log.add({ ...entry, platform: 'none', status: 413 });
      return;
    }
    const request: EmulatorRequest = { method, url, headers: req.headers, body, receivedAt, sequence: number };
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      // Control endpoints: no token, no fault, not logged (a test reading the log must not see itself).
      const control = await answerControl(request, options.controls, options.platforms);
      send(res, control.status, { 'content-type': 'application/json' }, serialize(control.body));
      return;
    }
    let answer: EmulatorResponse | undefined;
    let platformName = 'none';
    for (const platform of options.platforms) {
      answer = await platform.handle(request);
      if (answer) {
        platformName = platform.name;
        break;
      }
    }
    // No platform owns the path (WeChat answers its own unknown API paths with 40066).
    answer ??= {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: `404 page not found: no emulated endpoint ${method} ${url.pathname}\n`,
    };

    const faults = options.faults();
    const applies = platformName !== 'none' && faultsApplyTo(faults, url.pathname, answer.exemptFromFaults === true);
    let transport: TransportFault | undefined;
    if (applies) {
      const wait = latencyFor(faults, number);
      await delay(wait);
      transport = chooseTransportFault(faults, number);
      if (!transport && wait > 0 && !answer.fault) answer = { ...answer, fault: 'latency' };
    }
    const errcode = errcodeOf(answer.body);
    const logged = { ...entry, platform: platformName, ...(errcode === undefined ? {} : { errcode }) };
    if (closing) {
      res.destroy();
      return;
    }
    const payload = serialize(answer.body);
    const headers = { 'content-type': 'application/json', ...answer.headers };
    switch (transport) {
      case 'reset':
        req.socket.destroy();
        options.log.add({ ...entry, platform: platformName, status: 0, fault: 'reset' });
        return;
      case 'server-error': {
        const status = faultRoll(faults, number, 'status') < 0.5 ? 502 : 503;
        send(
          res,
          status,
          { 'content-type': 'text/html' },
          `<html><body><h1>${status}</h1>upstream error</body></html>`,
        );
        options.log.add({ ...entry, platform: platformName, status, fault: 'server-error' });
        return;
      }
      case 'malformed': {
        // Gateways answer HTML error pages with the API's JSON content type.
        send(res, 200, headers, `<html><body>upstream busy</body></html>${payload.subarray(0, 16).toString('latin1')}`);
        options.log.add({ ...logged, status: 200, fault: 'malformed' });
        return;
      }
      case 'truncated': {
        // Announce the full length and cut the body in the middle: the client sees a premature close.
        res.writeHead(answer.status, { ...headers, 'content-length': String(payload.length) });
        res.write(payload.subarray(0, Math.max(1, Math.floor(payload.length / 2))));
        res.socket?.destroySoon?.();
        setImmediate(() => res.destroy());
        options.log.add({ ...logged, status: answer.status, fault: 'truncated' });
        return;
      }
      case 'slow': {
        // Logged before streaming: the client may finish reading before the last pause ends.
        options.log.add({ ...logged, status: answer.status, fault: 'slow' });
        res.writeHead(answer.status, { ...headers, 'content-length': String(payload.length) });
        const chunks = 10;
        const step = Math.ceil(payload.length / chunks);
        for (let offset = 0; offset < payload.length; offset += step) {
          if (res.destroyed || closing) return;
          res.write(payload.subarray(offset, offset + step));
          await delay((faults.slowBodyMs ?? 1000) / chunks);
        }
        res.end();
        return;
      }
      default:
        send(res, answer.status, headers, payload);
        options.log.add({ ...logged, status: answer.status, ...(answer.fault ? { fault: answer.fault } : {}) });
    }
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(emulatorError('EMULATOR_LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}`, { cause })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      for (const platform of options.platforms) await platform.close();
    },
  };
}

/** The body of a 500: the emulator's own error, with its code when it has one. */
function emulatorFailure(error: unknown): { error: { code: string; message: string } } {
  if (isKefuError(error)) return { error: { code: error.code, message: `emulator error: ${error.message}` } };
  return { error: { code: 'EMULATOR_INTERNAL', message: `emulator error: ${String(error)}` } };
}

/** Reads the whole body; undefined when it exceeds {@link MAX_REQUEST_BYTES}. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function serialize(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? null), 'utf8');
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'content-length': String(payload.length) });
  res.end(payload);
}

function errcodeOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const code = (body as { errcode?: unknown }).errcode;
  if (typeof code === 'number') return code;
  // Youmi's envelope carries its code in `errmsg`; logged for failures only.
  const youmi = body as { succeed?: unknown; errmsg?: unknown };
  return youmi.succeed === false && typeof youmi.errmsg === 'number' ? youmi.errmsg : undefined;
}
