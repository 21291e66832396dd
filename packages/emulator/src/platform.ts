import type { IncomingHttpHeaders } from 'node:http';

/**
 * The contract between the emulator's HTTP server and each emulated platform.
 * The server reads the request, applies transport-level faults (latency, 5xx,
 * resets, malformed/truncated/slow bodies) and logs it; a platform only decides what
 * to answer.
 */

/** A fully read request. */
export interface EmulatorRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Time the request arrived (emulator clock, ms since epoch). */
  receivedAt: number;
  /** 1-based number of the request since the server started: platforms roll their fault dice on it. */
  sequence?: number;
}

/** What a platform answers. `body` objects are serialized as JSON. */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** A platform-level fault this answer carries (e.g. `busy`, `minute-quota`, `revoked`), for the request log. */
  fault?: string;
  /** True for token and emulator-control endpoints: faults skip them unless `faults.pathPattern` matches them. */
  exemptFromFaults?: boolean;
}

/** An emulated platform: answers its routes, returns undefined for routes it does not own. */
export interface EmulatedPlatform {
  /** Short name used in logs and the request log (`wechat`, `youmi`); its control endpoints live under `/__emulator/<name>/`. */
  readonly name: string;
  handle(request: EmulatorRequest): Promise<EmulatorResponse | undefined>;
  /**
   * Answers the platform's control endpoints, `/__emulator/<name>/<path>` (`path` without the
   * prefix), or undefined for none. Optional: without it such requests go to `handle`. Throw
   * an EMULATOR_* KefuError for bad input; the server turns it into a 400/404 JSON error.
   */
  control?(request: EmulatorRequest, path: string): Promise<EmulatorResponse | undefined>;
  /** Stops timers and outgoing callbacks. */
  close(): Promise<void>;
}

/** The emulator's clock: real time by default, fixed or offset in tests. */
export interface EmulatorClock {
  now(): number;
}
