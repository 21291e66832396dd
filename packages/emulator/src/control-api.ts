import { isKefuError } from '@kefu/core/errors';
import type { AdjustableClock } from './clock.js';
import { emulatorError } from './errors.js';
import type { FaultOptions } from './faults.js';
import type { EmulatedPlatform, EmulatorRequest, EmulatorResponse } from './platform.js';
import type { RequestLog, RequestLogEntry, RequestLogFilter } from './request-log.js';

/**
 * The emulator's HTTP control API under `/__emulator/`, usable from any language (like
 * LocalStack's): the request log, the clock and the fault knobs here; each platform serves
 * its own endpoints under `/__emulator/<platform>/` through `EmulatedPlatform.control`.
 * Control requests need no token, meet no fault and are not logged. Errors answer
 * `{"error": {"code", "message"}}` with 400 (bad input), 404 (no such endpoint or account) or 500.
 */

/** The path prefix of every control endpoint. */
export const CONTROL_PREFIX = '/__emulator/';

/** What the generic control endpoints act on. */
export interface EmulatorControls {
  log: RequestLog;
  clock: AdjustableClock;
  faults(): FaultOptions;
  /** Replaces the fault knobs (validated: EMULATOR_OPTIONS_INVALID) and resets fault counters. */
  setFaults(faults: unknown): FaultOptions;
}

/** Request log entries answered at most, unless `limit` says otherwise. */
const DEFAULT_LOG_LIMIT = 1000;

type Endpoint = (request: EmulatorRequest, controls: EmulatorControls) => unknown;

/** The generic endpoints, by `METHOD path` below the prefix. */
const ENDPOINTS: Record<string, Endpoint> = {
  // Benchmarks read the server's own memory figures (bytes) without /proc access.
  'GET memory': () => process.memoryUsage(),
  'GET requests': (request, controls) => requestLogAnswer(controls.log, request.url.searchParams),
  'DELETE requests': (_request, controls) => {
    const cleared = controls.log.count();
    controls.log.clear();
    return { cleared };
  },
  'GET clock': (_request, controls) => clockAnswer(controls.clock),
  'POST clock/advance': (request, controls) => {
    const { ms } = jsonBody(request) as { ms?: unknown };
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', 'clock/advance needs {"ms": <milliseconds >= 0>}');
    }
    controls.clock.advance(ms);
    return clockAnswer(controls.clock);
  },
  'GET faults': (_request, controls) => controls.faults(),
  'PUT faults': (request, controls) => controls.setFaults(jsonBody(request)),
};

/** Answers a request under `/__emulator/`. */
export async function answerControl(
  request: EmulatorRequest,
  controls: EmulatorControls,
  platforms: readonly EmulatedPlatform[],
): Promise<EmulatorResponse> {
  const path = request.url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
  try {
    const endpoint = ENDPOINTS[`${request.method} ${path}`];
    if (endpoint) return { status: 200, body: endpoint(request, controls), exemptFromFaults: true };
    const answer = await platformControl(request, path, platforms);
    if (answer) return { ...answer, exemptFromFaults: true };
    throw emulatorError(
      'EMULATOR_CONTROL_NOT_FOUND',
      `no control endpoint ${request.method} ${request.url.pathname} (see the @kefu/emulator README)`,
    );
  } catch (error) {
    return controlError(error);
  }
}

/** `/__emulator/<name>/<rest>`: the platform named `<name>` answers, through `control` or (older platforms) `handle`. */
async function platformControl(
  request: EmulatorRequest,
  path: string,
  platforms: readonly EmulatedPlatform[],
): Promise<EmulatorResponse | undefined> {
  const [name, ...rest] = path.split('/');
  const platform = platforms.find((candidate) => candidate.name === name);
  if (!platform) return undefined;
  if (platform.control) return platform.control(request, rest.join('/'));
  return platform.handle(request);
}

/** The JSON body of a control request; EMULATOR_OPTIONS_INVALID when it is not JSON. */
export function jsonBody(request: EmulatorRequest): unknown {
  const text = request.body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `${request.url.pathname}: the body is not JSON`);
  }
}

/** HTTP statuses of control errors: bad input 400, no such endpoint or account 404, the rest 500. */
const CONTROL_ERROR_STATUS: Record<string, number> = {
  EMULATOR_OPTIONS_INVALID: 400,
  EMULATOR_CONTROL_NOT_FOUND: 404,
  EMULATOR_UNKNOWN_ACCOUNT: 404,
  EMULATOR_YOUMI_OPTIONS_INVALID: 400,
  EMULATOR_YOUMI_QUERY_INVALID: 400,
  EMULATOR_YOUMI_UNKNOWN_ACCOUNT: 404,
  EMULATOR_YOUMI_UNKNOWN_FAN: 404,
};

/** A control error as HTTP `{"error": {"code", "message"}}`. */
function controlError(error: unknown): EmulatorResponse {
  if (!isKefuError(error)) throw error;
  return {
    status: CONTROL_ERROR_STATUS[error.code] ?? 500,
    body: { error: { code: error.code, message: error.message } },
    exemptFromFaults: true,
  };
}

function clockAnswer(clock: AdjustableClock) {
  const now = clock.now();
  return { now, iso: new Date(now).toISOString(), frozen: clock.frozen };
}

/** `GET /__emulator/requests`: entries matching every given filter, oldest first, after `since`, at most `limit`. */
function requestLogAnswer(log: RequestLog, query: URLSearchParams): { count: number; entries: RequestLogEntry[] } {
  const filter = logFilter(query);
  const since = optionalNumber(query, 'since') ?? Number.NEGATIVE_INFINITY;
  const limit = optionalNumber(query, 'limit') ?? DEFAULT_LOG_LIMIT;
  const matching = log.entries(filter).filter((entry) => entry.at >= since);
  return { count: matching.length, entries: matching.slice(0, limit) };
}

function logFilter(query: URLSearchParams): RequestLogFilter {
  const text = (name: string) => query.get(name) ?? undefined;
  const pattern = text('pathPattern');
  let path: string | RegExp | undefined = text('path');
  if (pattern !== undefined) {
    try {
      path = new RegExp(pattern);
    } catch {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `requests: pathPattern ${pattern} is not a regular expression`);
    }
  }
  return {
    ...(text('platform') ? { platform: text('platform') } : {}),
    ...(text('method') ? { method: text('method') } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(optionalNumber(query, 'status') !== undefined ? { status: optionalNumber(query, 'status') } : {}),
    ...(optionalNumber(query, 'errcode') !== undefined ? { errcode: optionalNumber(query, 'errcode') } : {}),
    ...(text('fault') ? { fault: text('fault') } : {}),
  };
}

function optionalNumber(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `${name} must be a number, got "${raw}"`);
  }
  return value;
}

/**
 * An instant given to a control endpoint: unix seconds (digits only) or an ISO-8601 date.
 * EMULATOR_OPTIONS_INVALID names the parameter otherwise.
 */
export function parseInstant(raw: string | null, name: string): Date {
  if (raw === null) throw emulatorError('EMULATOR_OPTIONS_INVALID', `${name} is required (unix seconds or ISO-8601)`);
  const date = /^\d+$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
  if (Number.isNaN(date.getTime())) {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `${name} must be unix seconds or ISO-8601, got "${raw}"`);
  }
  return date;
}
