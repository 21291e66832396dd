import { registerSecret } from '@kefu/core/redaction';
import type { EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { AccessTokenStore } from './youmi-auth.js';
import { YoumiChatStore } from './youmi-chat-store.js';
import { type ChatCore, type YoumiAccount, YoumiDataset, type YoumiStaff } from './youmi-data.js';
import { EnvelopeFailure, YOUMI_ERRMSG, youmiEnvelope } from './youmi-envelope.js';
import { YoumiEventDispatcher } from './youmi-events.js';
import {
  type ResolvedYoumiOptions,
  type ResolvedYoumiReadings,
  resolveYoumiOptions,
  type YoumiEmulatorOptions,
} from './youmi-options.js';
import type { YoumiRawChat, YoumiRawFan } from './youmi-schemas.js';
import type { V1ApiContext, V1Route } from './youmi-v1-api.js';

/**
 * Everything the emulated Youmi platform remembers, shared by its API areas: the resolved
 * options and readings, the seeded data and chat store, v2 and v1 tokens, the event
 * dispatcher, and what calls changed (staff takeovers, activations, todos, bulk sends, v1
 * friend requests). The helpers here are the lookups and envelopes more than one area needs.
 */

/** Fault settings the Youmi platform honours itself (the server applies transport faults). */
export interface YoumiFaultSettings {
  /** The bearer / v1 token is revoked every N authenticated calls (that call is refused as token-invalid). */
  revokeTokenEveryCalls?: number;
  /** Faults apply only to paths matching this regex. */
  pathPattern?: string;
}

/** What the Youmi platform is built from. */
export interface YoumiPlatformOptions {
  /** Data seed; default 'kefu'. */
  seed?: string | number;
  youmi?: YoumiEmulatorOptions;
  /** The emulator clock; the history ends at its value when the platform is created. */
  clock: EmulatorClock;
  /** Current fault settings (read on every call). */
  faults?: () => YoumiFaultSettings;
  /** The server's request log; the platform does not write to it (the server logs every request). */
  log?: unknown;
}

/** A v2 call: the parsed JSON body, the time, the `TenantId` header. */
export interface V2Call {
  body: unknown;
  now: number;
  tenantId: string | undefined;
}

/**
 * A Youmi route: `token` calls answer whole responses (exempt from faults); `v2` calls pass the
 * bearer-token gate and return the envelope's `values`; `v1` calls pass the signature gate.
 */
export type YoumiRoute =
  | { api: 'token'; handle(request: EmulatorRequest): EmulatorResponse }
  | { api: 'v2'; method: 'GET' | 'POST'; handle(call: V2Call): unknown }
  | ({ api: 'v1' } & V1Route);

/** A v2 POST route. */
export function v2Post(handle: (call: V2Call) => unknown): YoumiRoute {
  return { api: 'v2', method: 'POST', handle };
}

/** A v2 GET route. */
export function v2Get(handle: (call: V2Call) => unknown): YoumiRoute {
  return { api: 'v2', method: 'GET', handle };
}

/** A v1 route. */
export function v1Route(method: 'GET' | 'POST', handle: V1Route['handle']): YoumiRoute {
  return { api: 'v1', method, handle };
}

/** A follow-up task (待办) added through the Todo API. */
export interface Todo {
  id: number;
  weixin: string | null;
  staffCode: string | null;
  remindTitle: string;
  followupsiTuation: string;
  remindTime: string | null;
  recipients: string[];
  createdAt: number;
  usersate: 0 | 1;
}

/** The emulated Youmi platform's state (see the file comment). */
export class YoumiState {
  readonly settings: ResolvedYoumiOptions;
  readings: ResolvedYoumiReadings;
  readonly data: YoumiDataset;
  readonly store: YoumiChatStore;
  readonly clock: EmulatorClock;
  readonly faults: () => YoumiFaultSettings;
  readonly v2Tokens: AccessTokenStore;
  readonly v1Tokens: AccessTokenStore;
  readonly events: YoumiEventDispatcher;
  /** Fan owners changed at run time (`wechatId:fanIndex` → staff code). */
  readonly staffOverrides = new Map<string, string>();
  readonly activations: Array<{ staffCode: string; at: number }> = [];
  readonly todos: Todo[] = [];
  readonly bulkSends: string[] = [];
  readonly v1Friends: Array<{ mobile: string; greeting: string; pcKid: string; wechatId: number }> = [];
  #authenticatedCalls = 0;
  #sequence = 0;

  constructor(options: YoumiPlatformOptions) {
    this.settings = resolveYoumiOptions(options.seed ?? 'kefu', options.youmi);
    this.readings = { ...this.settings.readings };
    this.clock = options.clock;
    this.faults = options.faults ?? (() => ({}));
    registerSecret(this.settings.clientSecret);
    registerSecret(this.settings.v1AppKey);
    const readings = () => this.readings;
    this.data = new YoumiDataset(this.settings, this.clock.now(), readings);
    this.store = new YoumiChatStore(this.data, this.settings, this.clock, readings);
    const now = () => this.clock.now();
    this.v2Tokens = new AccessTokenStore(now);
    this.v1Tokens = new AccessTokenStore(now);
    this.events = new YoumiEventDispatcher({
      merchantId: this.settings.merchantId,
      retries: this.settings.callbackRetries,
      retryDelayMs: this.settings.callbackRetryDelayMs,
      timeoutMs: this.settings.callbackTimeoutMs,
      now,
      timeFormat: () => this.readings.timeFormat,
    });
  }

  /** The next request number (envelope request ids, generated keys). */
  nextSequence(): number {
    return ++this.#sequence;
  }

  /** What the v1 API (youmi-v1-api.ts) needs: credentials, tokens, clock, readings, the revocation fault. */
  v1Api(): V1ApiContext {
    return {
      appId: this.settings.v1AppId,
      appKey: this.settings.v1AppKey,
      tokenLifetimeSeconds: this.settings.v1TokenLifetimeSeconds,
      tokens: this.v1Tokens,
      now: () => this.clock.now(),
      readings: () => this.readings,
      revokesNow: (path) => this.revokesNow(path),
    };
  }

  // ---- envelopes and the revocation fault -----------------------------------------------

  /** A v2 envelope around `values`. */
  envelope(values: unknown, errmsg: number = YOUMI_ERRMSG.ok, errdesc: string | null = null) {
    return youmiEnvelope(
      this.clock.now(),
      this.readings.timeFormat,
      values,
      errmsg,
      errdesc,
      `req-${this.nextSequence()}`,
    );
  }

  /** A failed v2 envelope (HTTP 200, `succeed: false`). */
  failure(errmsg: number, errdesc: string): EmulatorResponse {
    return { status: 200, body: this.envelope(null, errmsg, errdesc) };
  }

  /** Applies `revokeTokenEveryCalls`: true when this authenticated call revokes the token. */
  revokesNow(path: string): boolean {
    const faults = this.faults();
    const every = faults.revokeTokenEveryCalls;
    if (!every || every <= 0) return false;
    if (faults.pathPattern && !new RegExp(faults.pathPattern).test(path)) return false;
    this.#authenticatedCalls += 1;
    return this.#authenticatedCalls % every === 0;
  }

  // ---- lookups that answer with an envelope failure ------------------------------------

  /** The account of a wechatId, or the 200012-style envelope failure. */
  accountOrFail(wechatId: number): YoumiAccount {
    const account = this.data.account(wechatId);
    if (!account) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, `wechatId: ${wechatId} does not exist`);
    return account;
  }

  /** The account and fan index of a fan key, searched in `wechatId`'s account or all of them. */
  fanOrFail(fansKey: string, wechatId?: number): { account: YoumiAccount; index: number } {
    const accounts = wechatId === undefined ? this.data.accounts : [this.accountOrFail(wechatId)];
    for (const account of accounts) {
      const index = this.data.fanIndex(account.wechatId, fansKey);
      if (index !== undefined) return { account, index };
    }
    throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchFriend, `${fansKey}: no such friend`);
  }

  /** A staff member by code, or the envelope failure. */
  staffOrFail(staffCode: string): YoumiStaff {
    const staff = this.data.staff.find((s) => s.staffCode === staffCode);
    if (!staff) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchStaff, `staff ${staffCode} does not exist`);
    return staff;
  }

  /** Pages a list: 1-based pageIndex, pageSize capped at maxPageSize. */
  pageOf<T>(items: readonly T[], pageIndex: number, pageSize: number): T[] {
    if (pageIndex < 1 || pageSize < 1)
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'pageIndex, pageSize: must be >= 1');
    const size = Math.min(pageSize, this.settings.maxPageSize);
    const start = (pageIndex - 1) * size;
    return items.slice(start, start + size);
  }

  // ---- fans, staff, chats as the API shows them -----------------------------------------

  /** 0..fanCount-1: every account has the same number of fans. */
  fanIndexes(): number[] {
    return Array.from({ length: this.data.fanCount }, (_, index) => index);
  }

  /** A fan with its current owner (run-time takeovers applied). */
  currentFan(wechatId: number, index: number): YoumiRawFan {
    const fan = this.data.fan(wechatId, index);
    const override = this.staffOverrides.get(`${wechatId}:${index}`);
    return override === undefined ? fan : { ...fan, staffCode: override };
  }

  /** Fan indexes of an account matching a fan key and a nickname part (both optional). */
  matchingFans(wechatId: number, fansKe: string | undefined, fansName: string | undefined): number[] {
    return this.fanIndexes().filter((index) => {
      const fan = this.currentFan(wechatId, index);
      return (!fansKe || fan.fansKey === fansKe) && (!fansName || fan.nickname.includes(fansName));
    });
  }

  /** A chat as the API renders it, with its fan's current owner. */
  render(chat: ChatCore): YoumiRawChat {
    return this.data.render(chat, this.currentFan(chat.wechatId, chat.fanIndex));
  }

  /** A staff member as GetStaffList lists them. */
  staffRow(staff: YoumiStaff) {
    const department = this.data.departments.find((d) => d.departmentId === staff.departmentId);
    const group = this.data.groups.find((g) => g.groupId === staff.groupId);
    return {
      ad_staff_code: staff.staffCode,
      ad_staff_name: staff.staffName,
      ad_departid: staff.departmentId,
      ad_departgroupid: staff.groupId,
      depart_name: department?.departmentName ?? '',
      depart_group_name: group?.groupName ?? '',
      ad_staff_state: staff.status === 1 ? 0 : 1,
      ad_staff_mobile: staff.mobile,
    };
  }
}
