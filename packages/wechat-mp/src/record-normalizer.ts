import { hash } from 'node:crypto';
import {
  type JsonValue,
  type KefuRecord,
  type RecordDirection,
  type RecordKind,
  type SessionEvent,
  toIsoTimestamp,
} from '@kefu/core';
import type { RawRecord } from './wechat-mp-schemas.js';

/** The `provider` field of every record this package emits. */
export const WECHAT_MP_PLATFORM = 'wechat-mp';

/** What an opercode means (API-NOTES "Records"); the set is open: unknown codes map to `unknown`. */
export interface OpercodeMeaning {
  direction: RecordDirection;
  event?: SessionEvent;
}

/** Known opercodes: 1000–1005 legacy session events, 2001–2003 messages. */
export const OPERCODES: Readonly<Record<number, OpercodeMeaning>> = {
  1000: { direction: 'system', event: 'session_waiting' },
  1001: { direction: 'system', event: 'session_accepted' },
  1002: { direction: 'system', event: 'session_initiated' },
  1004: { direction: 'system', event: 'session_closed' },
  1005: { direction: 'system', event: 'session_grabbed' },
  // 2001: the account received a message from the customer (legacy).
  2001: { direction: 'inbound' },
  // 2002: an agent sent a message to the customer.
  2002: { direction: 'outbound' },
  // 2003: an agent received a message from the customer.
  2003: { direction: 'inbound' },
};

/** Media arrive only as these placeholder texts (API-NOTES). */
// A Map, not an object: a text such as "valueOf" or "toString" must not find Object.prototype's methods.
const MEDIA_PLACEHOLDERS: ReadonlyMap<string, RecordKind> = new Map([
  ['[image]', 'image'],
  ['[voice]', 'voice'],
  ['[video]', 'video'],
]);
/** Every placeholder's length: other texts skip the lookup, which hashes the whole text. */
const PLACEHOLDER_LENGTH = 7;

/** The kind of a placeholder text (spaces around it allowed), or undefined. */
function mediaPlaceholder(text: string): RecordKind | undefined {
  const trimmed = text.trim();
  // Only a 7-character text can be one: a longer one is not looked up (hashed) at all.
  return trimmed.length === PLACEHOLDER_LENGTH ? MEDIA_PLACEHOLDERS.get(trimmed) : undefined;
}

/** The identity of a record's content: every field the platform gives, in a fixed order (JSON). */
export function recordIdentity(appId: string, record: RawRecord): string {
  return JSON.stringify([appId, record.openid, record.opercode, record.time, record.worker, record.text]);
}

/**
 * The stable id of a record: `sha256(identity + "#" + occurrence)` truncated to 32 hex
 * characters, where `identity` is {@link recordIdentity} and `occurrence` counts identical
 * records before it in its day window (so two identical messages in one second get
 * distinct ids, and any API delivering the window derives the same ids). One hash per
 * record: hashing was the largest cost of normalizing one.
 */
export function recordId(identity: string, occurrence: number): string {
  // One-shot hashing (a Hash object per record cost more than the digest itself) of the
  // UTF-8 bytes written into a reused buffer: hashing the string `${identity}#${occurrence}`
  // made V8 copy the concatenation into a flat string first (about 200 bytes per record of
  // garbage, and the garbage collector was a fifth of a sync's CPU). The same bytes either
  // way: both encode lone surrogates as U+FFFD.
  const needed = identity.length * 3 + OCCURRENCE_BYTES;
  if (needed > idScratch.length) {
    idScratch = Buffer.allocUnsafe(Math.max(needed, 2 * idScratch.length));
    idViews = [];
  }
  let length = idScratch.write(identity, 0, 'utf8');
  idScratch[length++] = HASH_SIGN;
  if (occurrence >= 0 && occurrence < 10 && Number.isInteger(occurrence)) idScratch[length++] = DIGIT_ZERO + occurrence;
  else length += idScratch.write(String(occurrence), length, 'latin1');
  // A view of the scratch per length, made once: a subarray per record was an object per record.
  let view = idViews[length];
  if (!view) {
    view = idScratch.subarray(0, length);
    idViews[length] = view;
  }
  const digest = hash('sha256', view);
  // Joined from two halves: V8 copies them into one 32-character string, where
  // `digest.slice(0, 32)` would keep the whole 64-character digest alive behind a slice
  // (every record holds its id until written: 56 bytes instead of 120 per record).
  return [digest.slice(0, 16), digest.slice(16, 32)].join('');
}

/** Room for `#` and any number's `String()` (e.g. `-1.2345678901234567e-300`). */
const OCCURRENCE_BYTES = 32;
const HASH_SIGN = 0x23;
const DIGIT_ZERO = 0x30;
/** Reused by every {@link recordId} call (synchronous: never shared between two at once). */
let idScratch = Buffer.allocUnsafe(4096);
/** `idScratch.subarray(0, length)` by length. */
let idViews: Buffer[] = [];

/** A short digest of an identity: what a checkpoint keeps instead of the content. */
export function identityDigest(identity: string): string {
  return hash('sha256', identity).slice(0, 16);
}

/** The occurrence counts of the last second seen: enough to resume counting mid-window. */
export interface OccurrenceSnapshot {
  /** The latest record time (unix seconds) seen. */
  t: number;
  /** Occurrences so far at time `t`, by {@link identityDigest} of the record's identity. */
  c: Record<string, number>;
}

/**
 * Counts identical records within one window. The identity includes the record's second
 * and records come ordered by time, so only the counts of the latest second can ever
 * matter again: older ones are dropped as time advances (memory stays bounded by one
 * second's records, not a day's), and that is all `snapshot()` keeps for a resume. Counts
 * are digested only for a snapshot, so counting costs no hash of its own.
 */
export class OccurrenceCounter {
  // The latest second's counts in parallel arrays, reused from second to second: most
  // seconds hold one record or a few, and clearing a Map or an array each second allocated
  // new backing stores (a third of a record's garbage). A Map indexes larger seconds.
  readonly #keys: string[] = [];
  readonly #identities: string[] = [];
  readonly #counts: number[] = [];
  #size = 0;
  /** Slot by key, once the latest second holds more than {@link LINEAR_SEARCH_SLOTS} identities. */
  #index: Map<string, number> | undefined;
  /** Counts of the snapshot this counter resumed from, by digest, while its second lasts. */
  #resumed: Map<string, number> | undefined;
  #latest = Number.NEGATIVE_INFINITY;

  /** A counter, optionally continuing from a snapshot. */
  constructor(snapshot?: OccurrenceSnapshot) {
    if (snapshot) {
      this.#latest = snapshot.t;
      this.#resumed = new Map(Object.entries(snapshot.c));
    }
  }

  /**
   * The occurrence index (0-based) of this record among identical ones. `key` stands for
   * the identity in the counts: equal for equal identities, distinct otherwise. The
   * record's id at occurrence 0 is one (32 characters, where the identity is usually
   * 100–300); the identity itself by default.
   */
  next(identity: string, time: number, key: string = identity): number {
    if (time > this.#latest) {
      this.#size = 0;
      this.#index = undefined;
      this.#resumed = undefined;
      this.#latest = time;
    }
    let slot = this.#slotOf(key);
    if (slot < 0) {
      slot = this.#size++;
      this.#keys[slot] = key;
      this.#identities[slot] = identity;
      this.#counts[slot] = this.#resumed?.get(identityDigest(identity)) ?? 0;
      if (this.#index) this.#index.set(key, slot);
      else if (this.#size > LINEAR_SEARCH_SLOTS)
        this.#index = new Map(this.#keys.slice(0, this.#size).map((k, i) => [k, i]));
    }
    const occurrence = this.#counts[slot] as number;
    this.#counts[slot] = occurrence + 1;
    return occurrence;
  }

  /** The slot of `key` in the latest second, or -1. */
  #slotOf(key: string): number {
    if (this.#index) return this.#index.get(key) ?? -1;
    for (let slot = 0; slot < this.#size; slot++) if (this.#keys[slot] === key) return slot;
    return -1;
  }

  /** The counts at the latest second, or undefined when nothing was counted. */
  snapshot(): OccurrenceSnapshot | undefined {
    if (!Number.isFinite(this.#latest)) return undefined;
    const counts: Record<string, number> = this.#resumed ? Object.fromEntries(this.#resumed) : {};
    for (let slot = 0; slot < this.#size; slot++) {
      counts[identityDigest(this.#identities[slot] as string)] = this.#counts[slot] as number;
    }
    return { t: this.#latest, c: counts };
  }
}

/** Identities of one second looked up by a scan before a Map indexes them. */
const LINEAR_SEARCH_SLOTS = 8;

/**
 * Maps one platform record to a {@link KefuRecord}: direction/kind/event from the opercode,
 * media from placeholders. Pass the `identity` (and the `id`) when already known (the
 * occurrence counter needed them) to build each once.
 */
export function normalizeRecord(
  appId: string,
  record: RawRecord,
  raw: JsonValue,
  occurrence: number,
  identity: string = recordIdentity(appId, record),
  id: string = recordId(identity, occurrence),
): KefuRecord {
  const meaning = OPERCODES[record.opercode];
  const text = record.text;
  let kind: RecordKind;
  if (!meaning) kind = 'unknown';
  else if (meaning.event) kind = 'event';
  else kind = (text.length >= PLACEHOLDER_LENGTH && mediaPlaceholder(text)) || 'text';
  const direction = meaning?.direction ?? 'system';
  const at = toIsoTimestamp(record.time * 1000);
  // Placeholders are not content: the kind says it all, raw keeps the text.
  const keepsText = text !== '' && (kind === 'text' || kind === 'unknown' || kind === 'event');
  if (record.worker && !meaning?.event && keepsText) {
    // The common shape (a message an agent took part in) as one literal: every field in the
    // object itself, where adding fields one by one puts them in a second, separate array.
    const { openid: customer, worker: agent } = record;
    return { id, provider: WECHAT_MP_PLATFORM, account: appId, customer, direction, kind, at, raw, agent, text };
  }
  const normalized: KefuRecord = {
    id,
    provider: WECHAT_MP_PLATFORM,
    account: appId,
    customer: record.openid,
    direction,
    kind,
    at,
    raw,
  };
  if (record.worker) normalized.agent = record.worker;
  if (meaning?.event) normalized.event = meaning.event;
  if (keepsText) normalized.text = text;
  return normalized;
}
