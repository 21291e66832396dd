import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  chooseTransportFault,
  type FaultOptions,
  faultRoll,
  faultsApplyTo,
  latencyFor,
  type TransportFault,
} from './faults.js';
import type { EmulatorResponse } from './platform.js';
import type { RequestLog, RequestLogEntry } from './request-log.js';

/**
 * The transport fault layer: wraps every platform's answer on its way out, like a flaky gateway
 * in front of the real platform — latency, HTTP 502/503, connection resets, malformed, truncated
 * and slow bodies (the dice are in faults.ts). Platforms never see it: their routes answer, this
 * layer decides how (and whether) the answer reaches the client, and logs the outcome.
 */

/** What the layer needs from the server. */
export interface TransportFaultContext {
  /** Read on every request so `setFaults` takes effect immediately. */
  faults: () => FaultOptions;
  log: RequestLog;
  /** A delay the server cancels when it closes. */
  delay(ms: number): Promise<void>;
  /** True once the server is closing: answers still waiting are dropped. */
  closing(): boolean;
}

/** One answered request on its way out. */
export interface OutgoingAnswer {
  req: IncomingMessage;
  res: ServerResponse;
  /** 1-based request number (the fault dice roll on it). */
  number: number;
  /** The platform that answered (`none` when none did: faults skip those). */
  platform: string;
  answer: EmulatorResponse;
  /** The request's log fields. */
  entry: Pick<RequestLogEntry, 'at' | 'method' | 'path' | 'query'>;
}

/** Delivers a platform's answer through the fault layer. */
export async function deliverThroughFaults(out: OutgoingAnswer, context: TransportFaultContext): Promise<void> {
  const faults = context.faults();
  let answer = out.answer;
  let transport: TransportFault | undefined;
  const applies = out.platform !== 'none' && faultsApplyTo(faults, out.entry.path, answer.exemptFromFaults === true);
  if (applies) {
    const wait = latencyFor(faults, out.number);
    await context.delay(wait);
    transport = chooseTransportFault(faults, out.number);
    if (!transport && wait > 0 && !answer.fault) answer = { ...answer, fault: 'latency' };
  }
  if (context.closing()) {
    out.res.destroy();
    return;
  }
  await writeAnswer({ ...out, answer }, transport, faults, context);
}

/** Writes the answer as the chosen fault (or none) says, and logs it. */
async function writeAnswer(
  out: OutgoingAnswer,
  transport: TransportFault | undefined,
  faults: FaultOptions,
  context: TransportFaultContext,
): Promise<void> {
  const { req, res, answer, entry, platform } = out;
  const errcode = errcodeOf(answer.body);
  const logged = { ...entry, platform, ...(errcode === undefined ? {} : { errcode }) };
  const payload = serializeBody(answer.body);
  const headers = { 'content-type': 'application/json', ...answer.headers };
  switch (transport) {
    case 'reset':
      req.socket.destroy();
      context.log.add({ ...entry, platform, status: 0, fault: 'reset' });
      return;
    case 'server-error': {
      const status = faultRoll(faults, out.number, 'status') < 0.5 ? 502 : 503;
      sendBody(
        res,
        status,
        { 'content-type': 'text/html' },
        `<html><body><h1>${status}</h1>upstream error</body></html>`,
      );
      context.log.add({ ...entry, platform, status, fault: 'server-error' });
      return;
    }
    case 'malformed':
      // Gateways answer HTML error pages with the API's JSON content type.
      sendBody(
        res,
        200,
        headers,
        `<html><body>upstream busy</body></html>${payload.subarray(0, 16).toString('latin1')}`,
      );
      context.log.add({ ...logged, status: 200, fault: 'malformed' });
      return;
    case 'truncated':
      // Announce the full length and cut the body in the middle: the client sees a premature close.
      res.writeHead(answer.status, { ...headers, 'content-length': String(payload.length) });
      res.write(payload.subarray(0, Math.max(1, Math.floor(payload.length / 2))));
      res.socket?.destroySoon?.();
      setImmediate(() => res.destroy());
      context.log.add({ ...logged, status: answer.status, fault: 'truncated' });
      return;
    case 'slow':
      // Logged before streaming: the client may finish reading before the last pause ends.
      context.log.add({ ...logged, status: answer.status, fault: 'slow' });
      await writeSlowly(res, answer.status, headers, payload, faults.slowBodyMs ?? 1000, context);
      return;
    default:
      sendBody(res, answer.status, headers, payload);
      context.log.add({ ...logged, status: answer.status, ...(answer.fault ? { fault: answer.fault } : {}) });
  }
}

/** Sends the body in ten chunks spread over `totalMs`. */
async function writeSlowly(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  payload: Buffer,
  totalMs: number,
  context: TransportFaultContext,
): Promise<void> {
  res.writeHead(status, { ...headers, 'content-length': String(payload.length) });
  const chunks = 10;
  const step = Math.ceil(payload.length / chunks);
  for (let offset = 0; offset < payload.length; offset += step) {
    if (res.destroyed || context.closing()) return;
    res.write(payload.subarray(offset, offset + step));
    await context.delay(totalMs / chunks);
  }
  res.end();
}

/** An answer body as bytes: Buffers as they are, strings as UTF-8, anything else as JSON. */
export function serializeBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? null), 'utf8');
}

/** Writes a whole answer with its Content-Length. */
export function sendBody(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'content-length': String(payload.length) });
  res.end(payload);
}

/** The platform error code of an answer, for the request log. */
function errcodeOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const code = (body as { errcode?: unknown }).errcode;
  if (typeof code === 'number') return code;
  // Youmi's envelope carries its code in `errmsg`; logged for failures only.
  const youmi = body as { succeed?: unknown; errmsg?: unknown };
  return youmi.succeed === false && typeof youmi.errmsg === 'number' ? youmi.errmsg : undefined;
}
