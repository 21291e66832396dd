import { formatZodIssue } from '@kefu/core';
import { z } from 'zod';
import { emulatorError } from './errors.js';
import { unitFloat } from './seeded-random.js';

/**
 * Fault injection. Every knob is a probability per request (0..1) or a count; the dice
 * are a pure function of `seed` and the request counter, so one run of a test always
 * meets the same faults in the same places.
 */

/** Fault knobs; all optional, all off by default. See the package README for each one. */
export interface FaultOptions {
  /** Fixed delay before answering. */
  latencyMs?: number;
  /** Extra uniform random delay in [0, jitterMs). */
  jitterMs?: number;
  /** Probability of answering HTTP 502/503 instead of the platform's answer. */
  serverErrorRate?: number;
  /** Probability of destroying the socket before answering. */
  connectionResetRate?: number;
  /** Probability of a 200 whose body is not valid JSON. */
  malformedBodyRate?: number;
  /** Probability of a body cut in the middle (Content-Length announces the full size). */
  truncatedBodyRate?: number;
  /** Probability of a body sent in chunks spread over `slowBodyMs`. */
  slowBodyRate?: number;
  /** How long a slow body takes to arrive (default 1000 ms). */
  slowBodyMs?: number;
  /** Probability of WeChat errcode -1 (system busy). */
  wechatBusyRate?: number;
  /** Probability of WeChat errcode 45011 (per-minute quota). */
  wechatMinuteQuotaRate?: number;
  /** After this many record calls, every further record call answers 45009 (until setFaults). */
  wechatDailyQuotaAfterCalls?: number;
  /** The current access token (WeChat) / bearer token (Youmi) is revoked every N authenticated calls. */
  revokeTokenEveryCalls?: number;
  /** Faults apply only to paths matching this regular expression (default: all API paths, never token endpoints). */
  pathPattern?: string;
  /** Seed of the fault dice (default 0). */
  seed?: number;
}

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);

/** Validates fault options (unknown keys are refused so a typo does not silently disable a fault). */
export const FaultOptionsSchema = z.strictObject({
  latencyMs: count.optional(),
  jitterMs: count.optional(),
  serverErrorRate: rate.optional(),
  connectionResetRate: rate.optional(),
  malformedBodyRate: rate.optional(),
  truncatedBodyRate: rate.optional(),
  slowBodyRate: rate.optional(),
  slowBodyMs: count.optional(),
  wechatBusyRate: rate.optional(),
  wechatMinuteQuotaRate: rate.optional(),
  wechatDailyQuotaAfterCalls: count.optional(),
  revokeTokenEveryCalls: z.number().int().min(1).optional(),
  pathPattern: z.string().optional(),
  seed: z.number().int().optional(),
});

/** Parses fault options, throwing EMULATOR_OPTIONS_INVALID with the offending field. */
export function parseFaultOptions(input: unknown): FaultOptions {
  const parsed = FaultOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw emulatorError(
      'EMULATOR_OPTIONS_INVALID',
      `faults.${formatZodIssue(issue, '?')} (rates are 0..1, counts are integers >= 0)`,
    );
  }
  if (parsed.data.pathPattern !== undefined) {
    try {
      new RegExp(parsed.data.pathPattern);
    } catch (cause) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `faults.pathPattern is not a valid regular expression`, {
        cause,
      });
    }
  }
  return parsed.data;
}

/** The transport fault chosen for one request. */
export type TransportFault = 'reset' | 'server-error' | 'malformed' | 'truncated' | 'slow';

/** Whether the fault knobs apply to a path; token endpoints only when `pathPattern` names them. */
export function faultsApplyTo(faults: FaultOptions, path: string, isExempt: boolean): boolean {
  if (faults.pathPattern !== undefined) return new RegExp(faults.pathPattern).test(path);
  return !isExempt;
}

/** Deterministic dice: `roll(kind, n)` is a pure function of the fault seed, the request number and the kind. */
export function faultRoll(faults: FaultOptions, requestNumber: number, kind: string): number {
  return unitFloat('fault', faults.seed ?? 0, requestNumber, kind);
}

/** The delay to wait before answering request `requestNumber`. */
export function latencyFor(faults: FaultOptions, requestNumber: number): number {
  const jitter = faults.jitterMs ? Math.floor(faultRoll(faults, requestNumber, 'jitter') * faults.jitterMs) : 0;
  return (faults.latencyMs ?? 0) + jitter;
}

/** Chooses at most one transport fault for a request, in a fixed order of precedence. */
export function chooseTransportFault(faults: FaultOptions, requestNumber: number): TransportFault | undefined {
  const candidates: Array<[TransportFault, number | undefined]> = [
    ['reset', faults.connectionResetRate],
    ['server-error', faults.serverErrorRate],
    ['malformed', faults.malformedBodyRate],
    ['truncated', faults.truncatedBodyRate],
    ['slow', faults.slowBodyRate],
  ];
  for (const [fault, probability] of candidates) {
    if (probability && faultRoll(faults, requestNumber, fault) < probability) return fault;
  }
  return undefined;
}
