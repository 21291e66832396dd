import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isKefuError } from '@kefu/core/errors';
import { answerControl, CONTROL_PREFIX, type EmulatorControls } from './control-api.js';
import { emulatorError } from './errors.js';
import type { FaultOptions } from './faults.js';
import type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from './platform.js';
import type { RequestLog } from './request-log.js';
import { deliverThroughFaults, sendBody, serializeBody, type TransportFaultContext } from './transport-faults.js';

/**
 * The emulator's HTTP server: reads each request whole, lets the control API or the platforms
 * (in turn) answer, then hands the answer to the transport fault layer (transport-faults.ts),
 * which delays, breaks or delivers it and logs the outcome.
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

/** Starts the HTTP server on loopback (or the given host). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sequence = 0;
  let closing = false;
  const faultContext: TransportFaultContext = {
    faults: options.faults,
    log: options.log,
    closing: () => closing,
    delay: (ms) =>
      new Promise<void>((resolve) => {
        if (ms <= 0 || closing) return resolve();
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
  };
  const server: Server = createServer((req, res) => {
    const number = ++sequence;
    answerRequest(req, res, number, options, faultContext).catch((error: unknown) => {
      // A platform bug (or a limit of the emulator) must show up as a 500 the test can see, not hang the client.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(emulatorFailure(error)));
      } else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server, options);
  return {
    url,
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

/** Reads one request, lets the control API or the platforms answer, and sends it through the fault layer. */
async function answerRequest(
  req: IncomingMessage,
  res: ServerResponse,
  number: number,
  options: HttpServerOptions,
  faultContext: TransportFaultContext,
): Promise<void> {
  const receivedAt = options.clock.now();
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const method = (req.method ?? 'GET').toUpperCase();
  const entry = { at: receivedAt, method, path: url.pathname, query: Object.fromEntries(url.searchParams) };
  const body = await readBody(req);
  if (body === undefined) {
    sendBody(
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
    sendBody(res, control.status, { 'content-type': 'application/json' }, serializeBody(control.body));
    return;
  }
  const { platform, answer } = await routeToPlatform(request, options.platforms);
  await deliverThroughFaults({ req, res, number, platform, answer, entry }, faultContext);
}

/** The first platform that owns the path answers; a 404 when none does. */
async function routeToPlatform(
  request: EmulatorRequest,
  platforms: readonly EmulatedPlatform[],
): Promise<{ platform: string; answer: EmulatorResponse }> {
  for (const platform of platforms) {
    const answer = await platform.handle(request);
    if (answer) return { platform: platform.name, answer };
  }
  // No platform owns the path (WeChat answers its own unknown API paths with 40066).
  return {
    platform: 'none',
    answer: {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: `404 page not found: no emulated endpoint ${request.method} ${request.url.pathname}\n`,
    },
  };
}

/** Listens and answers the server's URL. */
async function listen(server: Server, options: HttpServerOptions): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(emulatorError('EMULATOR_LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}`, { cause })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `http://${host}:${port}`;
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
