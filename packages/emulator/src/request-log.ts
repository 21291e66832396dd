/**
 * The emulator's request log: one entry per answered (or deliberately failed) request,
 * so tests can assert what a client really sent and which fault it met.
 */

/** One logged request. */
export interface RequestLogEntry {
  /** Emulator-clock time the request arrived (ms since epoch). */
  at: number;
  /** Platform that answered (`wechat`, `youmi`) or `none` for unknown routes. */
  platform: string;
  method: string;
  path: string;
  /** Query parameters; secrets and tokens are replaced by `[redacted]`. */
  query: Record<string, string>;
  /** HTTP status sent (0 when the connection was reset before answering). */
  status: number;
  /** The platform error code in the answer (WeChat `errcode`, the `errmsg` of a failed Youmi envelope), when there is one. */
  errcode?: number;
  /** The fault injected into this request, if any (e.g. `latency`, `reset`, `busy`). */
  fault?: string;
}

/** Which entries {@link RequestLog.count} and {@link RequestLog.entries} take; every given field must match. */
export interface RequestLogFilter {
  platform?: string;
  method?: string;
  /** Exact path, or a regular expression tested against the path. */
  path?: string | RegExp;
  status?: number;
  errcode?: number;
  fault?: string;
}

/** Query parameter names whose values never enter the log. */
const SECRET_QUERY_NAMES = /secret|token|signature|password|key/i;

/** An in-memory, bounded log of requests (oldest entries are dropped beyond `capacity`). */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];
  readonly #capacity: number;

  /** `capacity` bounds memory during benchmarks that send millions of requests. */
  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** Appends an entry (the server calls this once per request). */
  add(entry: RequestLogEntry): void {
    this.#entries.push({ ...entry, query: redactQuery(entry.query) });
    if (this.#entries.length > this.#capacity) this.#entries.splice(0, this.#entries.length - this.#capacity);
  }

  /** A copy of the entries matching `filter` (all without one), oldest first. */
  entries(filter: RequestLogFilter = {}): RequestLogEntry[] {
    return this.#entries
      .filter((entry) => matches(entry, filter))
      .map((entry) => ({ ...entry, query: { ...entry.query } }));
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.length = 0;
  }

  /** How many entries match `filter` (all entries without one). */
  count(filter: RequestLogFilter = {}): number {
    return this.#entries.filter((entry) => matches(entry, filter)).length;
  }
}

function matches(entry: RequestLogEntry, filter: RequestLogFilter): boolean {
  if (filter.platform !== undefined && entry.platform !== filter.platform) return false;
  if (filter.method !== undefined && entry.method !== filter.method.toUpperCase()) return false;
  if (filter.path !== undefined) {
    if (typeof filter.path === 'string' ? entry.path !== filter.path : !filter.path.test(entry.path)) return false;
  }
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.errcode !== undefined && entry.errcode !== filter.errcode) return false;
  if (filter.fault !== undefined && entry.fault !== filter.fault) return false;
  return true;
}

function redactQuery(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) out[name] = SECRET_QUERY_NAMES.test(name) ? '[redacted]' : value;
  return out;
}
