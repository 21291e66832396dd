import { youmiEmulatorError } from './youmi-errors.js';
import type { YoumiDeliveryAttempt } from './youmi-events.js';
import {
  invalidYoumiOptions,
  type ResolvedYoumiReadings,
  type YoumiReadings,
  youmiReadingsSchema,
} from './youmi-options.js';
import { type YoumiEventType, type YoumiRawChat, type YoumiRawFan, youmiEventTypes } from './youmi-schemas.js';
import type { YoumiState } from './youmi-state.js';

/**
 * What tests (and the control endpoints) ask the Youmi platform beside its API: the ground truth
 * (`expectedChats`, `fans`), late uploads, token revocation, the readings, callback targets and
 * events, a fan writing now. Lookups of unknown accounts or fans throw EMULATOR_YOUMI_* errors.
 */

/** Ground-truth query of {@link YoumiTestHelpers.expectedChats}: from/to inclusive. */
export interface ExpectedChatsQuery {
  wechatId: number;
  from: Date;
  to: Date;
  fansKey?: string;
}

/** A late upload to schedule: an old chat the platform receives at `arriveAt`, with a new id. */
export interface LateUploadInput {
  wechatId: number;
  fansKey: string;
  /** The chat's own time. */
  time: Date | number;
  /** When the platform receives it (emulator clock); until then GetChat and the ground truth do not show it. */
  arriveAt: Date | number;
  content?: string;
  /** Sent by the operating account (issend 1) instead of the fan. */
  fromAccount?: boolean;
}

/** The test helpers of the Youmi platform (also part of `RunningEmulator['youmi']`). */
export interface YoumiTestHelpers {
  /** Chats with from <= ad_chatting_time <= to that have arrived, in ad_chatting_id order. */
  expectedChats(query: ExpectedChatsQuery): YoumiRawChat[];
  /** Every fan of an account, in GetFansList order (the emulator's own shape, not a GetFansList row). */
  fans(wechatId: number): YoumiRawFan[];
  /** Schedules a late upload (see {@link LateUploadInput}). */
  addLateUpload(input: LateUploadInput): void;
  /** Revokes every token issued so far (v2 and v1), as a credential rotation would; returns how many. */
  revokeTokens(): number;
  /** The readings in force. */
  readings(): ResolvedYoumiReadings;
  /** Changes readings at run time (`chatIds` only at start: ids are data). */
  setReadings(readings: Omit<YoumiReadings, 'chatIds'>): ResolvedYoumiReadings;
  /** Sets the v1 callback URL, as the merchant does in the back office (§3: no API for it). */
  setV1CallbackUrl(url: string | undefined): void;
  /** POSTs an event to every registered/subscribed URL; returns the number of targets. */
  emitYoumiEvent(eventType: YoumiEventType, values: Record<string, unknown> | unknown[]): number;
  /** Records a message from a fan now (issend 0) and emits a `chat` event, as a live fan would. */
  simulateFanMessage(input: { wechatId: number; fansKey: string; content: string }): YoumiRawChat;
  /** Resolves when every event delivery in flight (including retries) has finished. */
  whenEventsDelivered(): Promise<void>;
  /** Every event delivery attempt so far. */
  deliveryAttempts(): YoumiDeliveryAttempt[];
}

/** The helpers over a platform's state. */
export function youmiTestHelpers(state: YoumiState): YoumiTestHelpers {
  return {
    expectedChats: (query) => expectedChats(state, query),
    fans: (wechatId) => {
      requireAccount(state, wechatId);
      return state.fanIndexes().map((index) => state.currentFan(wechatId, index));
    },
    addLateUpload: (input) => addLateUpload(state, input),
    revokeTokens: () => state.v2Tokens.revokeAll() + state.v1Tokens.revokeAll(),
    readings: () => ({ ...state.readings }),
    setReadings: (readings) => setReadings(state, readings),
    setV1CallbackUrl: (url) => state.events.setV1Callback(url),
    emitYoumiEvent: (eventType, values) => emitYoumiEvent(state, eventType, values),
    simulateFanMessage: (input) => simulateFanMessage(state, input),
    whenEventsDelivered: () => state.events.whenIdle(),
    deliveryAttempts: () => state.events.deliveryAttempts(),
  };
}

function expectedChats(state: YoumiState, query: ExpectedChatsQuery): YoumiRawChat[] {
  const from = query.from?.getTime?.();
  const to = query.to?.getTime?.();
  if (!Number.isFinite(from) || !Number.isFinite(to) || (from as number) > (to as number)) {
    throw youmiEmulatorError(
      'EMULATOR_YOUMI_QUERY_INVALID',
      'expectedChats: from and to must be valid Dates with from <= to',
    );
  }
  requireAccount(state, query.wechatId);
  const indexes = query.fansKey === undefined ? state.fanIndexes() : [requireFan(state, query.wechatId, query.fansKey)];
  return indexes
    .flatMap((index) => state.store.truth(query.wechatId, index, from as number, to as number))
    .sort((a, b) => a.id - b.id)
    .map((chat) => state.render(chat));
}

function addLateUpload(state: YoumiState, input: LateUploadInput): void {
  requireAccount(state, input.wechatId);
  const fanIndex = requireFan(state, input.wechatId, input.fansKey);
  const timeMs = instant(input.time);
  const arriveAt = instant(input.arriveAt);
  if (!Number.isFinite(timeMs) || !Number.isFinite(arriveAt)) {
    throw youmiEmulatorError('EMULATOR_YOUMI_QUERY_INVALID', 'addLateUpload: time and arriveAt must be valid times');
  }
  state.store.scheduleLateUpload({
    wechatId: input.wechatId,
    fanIndex,
    timeMs,
    arriveAt,
    content: input.content ?? '补传的消息',
    fromAccount: input.fromAccount ?? false,
  });
}

function setReadings(state: YoumiState, readings: Omit<YoumiReadings, 'chatIds'>): ResolvedYoumiReadings {
  const parsed = youmiReadingsSchema.omit({ chatIds: true }).strict().safeParse(readings);
  if (!parsed.success) invalidYoumiOptions(parsed.error.issues);
  state.readings = {
    ...state.readings,
    ...Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)),
  };
  return { ...state.readings };
}

function emitYoumiEvent(
  state: YoumiState,
  eventType: YoumiEventType,
  values: Record<string, unknown> | unknown[],
): number {
  if (!youmiEventTypes.includes(eventType) || typeof values !== 'object' || values === null) {
    throw youmiEmulatorError(
      'EMULATOR_YOUMI_EVENT_INVALID',
      `emitYoumiEvent: unknown event type "${String(eventType)}" or values that are not an object/array`,
    );
  }
  return state.events.emit(eventType, values);
}

function simulateFanMessage(
  state: YoumiState,
  input: { wechatId: number; fansKey: string; content: string },
): YoumiRawChat {
  requireAccount(state, input.wechatId);
  const index = requireFan(state, input.wechatId, input.fansKey);
  const chat = state.render(
    state.store.append(input.wechatId, index, { fromAccount: false, type: 1, content: input.content }),
  );
  state.events.emit('chat', chat);
  return chat;
}

function requireAccount(state: YoumiState, wechatId: number): void {
  if (!state.data.account(wechatId)) {
    throw youmiEmulatorError(
      'EMULATOR_YOUMI_UNKNOWN_ACCOUNT',
      `wechatId ${wechatId} is not served; use one of ${state.settings.wechatIds.join(', ')}`,
    );
  }
}

function requireFan(state: YoumiState, wechatId: number, fansKey: string): number {
  const index = state.data.fanIndex(wechatId, fansKey);
  if (index === undefined) {
    throw youmiEmulatorError('EMULATOR_YOUMI_UNKNOWN_FAN', `fansKey ${fansKey} is not a fan of wechatId ${wechatId}`);
  }
  return index;
}

/** Turns a Date, ms number or ISO text into ms since epoch; NaN when it is none of them. */
function instant(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.NaN;
}
