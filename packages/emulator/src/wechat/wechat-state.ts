import { registerSecret } from '@kefu/core/redaction';
import { emulatorError } from '../errors.js';
import type { FaultOptions } from '../faults.js';
import type { EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { stableId, unitFloat } from '../seeded-random.js';
import { WechatPushSender } from './push-sender.js';
import { sec } from './wechat-answers.js';
import { Opercode, WechatDataSet, type WechatEmulatorOptions, type WechatRawRecord } from './wechat-data.js';
import { parseWechatKnobs, type WechatKnobs, type WechatKnobsInput } from './wechat-knobs.js';
import { MsgidLayout } from './wechat-msgids.js';
import { type LiveRecord, RecordWindow, type WindowEntry } from './wechat-record-window.js';
import { TokenAuthority } from './wechat-tokens.js';

/**
 * Everything the emulated WeChat platform remembers, shared by its API areas: the seeded data,
 * the token authority, each account's run-time state (agents, sessions, the waiting queue,
 * customers' reply windows, run-time records), the knobs in force and the server pushes.
 * The helpers here are the ones more than one area needs (a customer writing, a session
 * ending, a run-time record being added).
 */

/** What the platform is built from. */
export interface WechatPlatformOptions {
  seed: string;
  wechat: WechatEmulatorOptions;
  clock: EmulatorClock;
  faults: () => FaultOptions;
}

/** An agent (客服账号) of an account. */
export interface AgentState {
  kfAccount: string;
  kfId: number;
  nickname: string;
  headImgUrl: string;
  wechatUser?: string;
  invite?: { wechatUser: string; at: number; expiresAt: number };
  online: boolean;
}

/** A customer's reply window and typing state. */
export interface CustomerState {
  /** Last message from the customer (ms): opens the 48 h window and resets the send count. */
  lastMessageAt: number;
  /** Last message either way (ms): typing needs one in the last 30 s. */
  lastExchangeAt: number;
  sentSinceMessage: number;
  typingUntil: number;
}

/** One account's run-time state. */
export interface AccountState {
  account: number;
  agents: Map<string, AgentState>;
  nextKfId: number;
  sessions: Map<string, { kfAccount: string; createdAt: number }>;
  waiting: Map<string, number>;
  customers: Map<string, CustomerState>;
  live: LiveRecord[];
}

/** An authenticated API call: the request, the token's account and that account's state. */
export interface WechatCall {
  request: EmulatorRequest;
  account: number;
  state: AccountState;
  now: number;
}

/**
 * A WeChat route. `token` routes pass the gate (methods, access token, platform faults) first;
 * `public` routes (the token calls) check their own input and meet no platform fault.
 */
export type WechatRoute =
  | {
      access: 'token';
      /** Methods taken now (a function when a knob decides, as for `kfaccount/del`). */
      methods: readonly string[] | (() => readonly string[]);
      handle(call: WechatCall): EmulatorResponse | Promise<EmulatorResponse>;
    }
  | { access: 'public'; handle(request: EmulatorRequest, now: number): EmulatorResponse };

/** The platform's options with defaults applied (the knobs apart: they change at run time). */
export type ResolvedWechatOptions = Required<Omit<WechatEmulatorOptions, 'records' | 'deleteAgent'>>;

/** Ground-truth query: half-open `[from, to)`, any length. */
export interface GroundTruthQuery {
  appId: string;
  from: Date;
  to: Date;
  openid?: string;
  limit?: number;
}

/** The emulated WeChat platform's state (see the file comment). */
export class WechatState {
  readonly options: ResolvedWechatOptions;
  readonly data: WechatDataSet;
  readonly clock: EmulatorClock;
  readonly faults: () => FaultOptions;
  readonly tokens: TokenAuthority;
  readonly accounts: AccountState[];
  readonly msgids: MsgidLayout;
  /** Server pushes to the accounts' server URLs (push-sender.ts) and the media they carry. */
  readonly pushes = new WechatPushSender();
  /** Calls counted by the platform faults (revocation every N calls, the daily record quota). */
  readonly faultCounters = { authenticatedCalls: 0, recordCalls: 0 };
  #knobs: WechatKnobs;

  constructor(options: WechatPlatformOptions) {
    const w = options.wechat;
    this.options = {
      accounts: w.accounts ?? 2,
      agentsPerAccount: w.agentsPerAccount ?? 5,
      customers: w.customers ?? 200,
      days: w.days ?? 30,
      recordsPerDay: w.recordsPerDay ?? 200,
      tokenExpiresInSeconds: w.tokenExpiresInSeconds ?? 7200,
      tokenOverlapSeconds: w.tokenOverlapSeconds ?? 300,
      inviteAcceptMs: w.inviteAcceptMs ?? 1000,
      messagesPerInteraction: w.messagesPerInteraction ?? 5,
      rawControlCharacters: w.rawControlCharacters ?? false,
      indentedRecordBodies: w.indentedRecordBodies ?? false,
      uniformDays: w.uniformDays ?? false,
      liveRecordsPerSecond: w.liveRecordsPerSecond ?? 1000,
    };
    this.#knobs = parseWechatKnobs({ records: w.records, deleteAgent: w.deleteAgent });
    this.clock = options.clock;
    this.faults = options.faults;
    const start = options.clock.now();
    this.data = new WechatDataSet(options.seed, this.options, start);
    this.msgids = new MsgidLayout(this.data, this.options);
    for (const account of this.data.accounts) registerSecret(account.secret);
    this.tokens = new TokenAuthority(options.seed, {
      expiresInSeconds: this.options.tokenExpiresInSeconds,
      overlapSeconds: this.options.tokenOverlapSeconds,
    });
    this.accounts = this.data.accounts.map((account) =>
      seedAccountState(this.data, options.seed, account.index, start),
    );
  }

  // ---- knobs and fault counters ----------------------------------------------------

  /** The knobs in force. */
  knobs(): WechatKnobs {
    return { records: { ...this.#knobs.records }, deleteAgent: this.#knobs.deleteAgent };
  }

  /** Changes some knobs (validated; the others stay), effective from the next request. */
  setKnobs(knobs: WechatKnobsInput): WechatKnobs {
    this.#knobs = parseWechatKnobs(knobs, this.#knobs);
    return this.knobs();
  }

  /** Resets fault counters (the daily quota) when the faults are replaced. */
  resetFaultCounters(): void {
    this.faultCounters.recordCalls = 0;
    this.faultCounters.authenticatedCalls = 0;
  }

  // ---- accounts, tokens, ground truth ----------------------------------------------

  /** The index of an app id's account; EMULATOR_UNKNOWN_ACCOUNT when it is not one. */
  accountIndex(appId: string): number {
    const account = this.data.account(appId);
    if (!account)
      throw emulatorError('EMULATOR_UNKNOWN_ACCOUNT', `unknown appId ${appId}; use one of emulator.wechat.accounts`);
    return account.index;
  }

  /** Revokes every access token of an app id now (40001 next); returns how many were live. */
  revokeTokens(appId: string): number {
    return this.tokens.revokeAccount(this.accountIndex(appId), this.clock.now());
  }

  /** Expires every access token of an app id now (42001 next); returns how many were live. */
  expireTokens(appId: string): number {
    return this.tokens.expireAccount(this.accountIndex(appId), this.clock.now());
  }

  /** The last second whose records the record APIs list at `now` (ms): `visibilityLagSeconds` earlier. */
  listedUntil(now: number): number {
    return sec(now) - this.#knobs.records.visibilityLagSeconds;
  }

  /** The records of an account over `[start, end)` (unix seconds) as listed at `now` (ms). */
  window(
    account: number,
    range: { start: number; end: number; messagesOnly: boolean; openid?: string | undefined },
    now: number,
  ): RecordWindow {
    return new RecordWindow(
      this.data,
      {
        account,
        start: range.start,
        end: range.end,
        messagesOnly: range.messagesOnly,
        ...(range.openid === undefined ? {} : { openid: range.openid }),
        nowSeconds: this.listedUntil(now),
      },
      this.accounts[account]?.live ?? [],
      this.msgids,
    );
  }

  /** The getmsglist ground truth with each record's msgid, at most `limit` entries. */
  groundTruth(q: GroundTruthQuery): WindowEntry[] {
    const window = this.window(
      this.accountIndex(q.appId),
      {
        start: Math.ceil(q.from.getTime() / 1000),
        end: Math.ceil(q.to.getTime() / 1000),
        messagesOnly: true,
        openid: q.openid,
      },
      this.clock.now(),
    );
    return window.entries(1, q.limit ?? window.total);
  }

  /** Ground truth for getmsglist over any range: the same objects the API returns, in API order. */
  expectedRecords(q: GroundTruthQuery): WechatRawRecord[] {
    return this.groundTruth(q).map((entry) => entry.record);
  }

  // ---- customers, agents, sessions (shared by several areas) ------------------------

  /** An account's customers with the time of their last message (unix seconds). */
  customersOf(appId: string): Array<{ openid: string; last_message_time: number }> {
    const account = this.accountIndex(appId);
    const state = this.accounts[account] as AccountState;
    return this.data.customers(account).map((openid) => {
      const customer = state.customers.get(openid) as CustomerState;
      return { openid, last_message_time: sec(customer.lastMessageAt) };
    });
  }

  /** A customer writes to the account now (opens the 48 h window, queues them without a session); false for an unknown openid. */
  customerWrites(appId: string, openid: string, text: string, now: number): boolean {
    const state = this.accounts[this.accountIndex(appId)] as AccountState;
    if (!state.customers.has(openid)) return false;
    const customer = state.customers.get(openid) as CustomerState;
    customer.lastMessageAt = now;
    customer.lastExchangeAt = now;
    customer.sentSinceMessage = 0;
    const session = state.sessions.get(openid);
    const time = sec(now);
    if (session) {
      this.addLive(state, { openid, opercode: Opercode.agentReceived, text, time, worker: session.kfAccount });
      return true;
    }
    if (!state.waiting.has(openid)) {
      state.waiting.set(openid, now);
      this.addLive(state, { openid, opercode: Opercode.waiting, text: '', time, worker: '' });
    }
    this.addLive(state, { openid, opercode: Opercode.accountReceived, text, time, worker: '' });
    return true;
  }

  /** Invited WeChat users accept after `inviteAcceptMs` of emulator time, then come online. */
  settleInvite(agent: AgentState, now: number): void {
    if (agent.invite && now - agent.invite.at >= this.options.inviteAcceptMs) {
      agent.wechatUser = agent.invite.wechatUser;
      agent.invite = undefined;
      agent.online = true;
    }
  }

  /** Ends a customer's session (if any) with a "closed" record. */
  endSession(state: AccountState, openid: string, now: number): void {
    const session = state.sessions.get(openid);
    state.sessions.delete(openid);
    if (session)
      this.addLive(state, { openid, opercode: Opercode.closed, text: '', time: sec(now), worker: session.kfAccount });
  }

  /** Adds a run-time record; the clock never goes back, so `live` stays in time order. */
  addLive(state: AccountState, record: WechatRawRecord): void {
    let ordinal = 0;
    while (state.live[state.live.length - 1 - ordinal]?.record.time === record.time) ordinal++;
    state.live.push({ record, msgid: this.msgids.live(state.account, record.time, ordinal) });
  }
}

/** An account's state at start: the seeded agents, customers, a few sessions and a waiting queue. */
function seedAccountState(data: WechatDataSet, seed: string, account: number, start: number): AccountState {
  const agents = new Map<string, AgentState>();
  const seeded = data.agents(account);
  seeded.forEach((agent, j) => {
    agents.set(agent.kfAccount, {
      kfAccount: agent.kfAccount,
      kfId: agent.kfId,
      nickname: agent.nickname,
      headImgUrl: `http://mmbiz.qpic.cn/mmbiz/${stableId(40, seed, 'head', account, j)}/300?wx_fmt=png`,
      wechatUser: agent.wechatUser,
      // The last seeded agent is offline, so "agent offline" paths can be exercised.
      online: j < seeded.length - 1 || seeded.length === 1,
    });
  });
  const openids = data.customers(account);
  const customers = new Map<string, CustomerState>();
  openids.forEach((openid, c) => {
    // The first half wrote within the last 47 h (send works), the rest 2-30 days ago (45015).
    const ago =
      c < openids.length / 2
        ? 60_000 + unitFloat(seed, 'lastmsg', account, c) * 46 * 3600_000
        : 49 * 3600_000 + unitFloat(seed, 'lastmsg', account, c) * 28 * 86_400_000;
    const lastMessageAt = start - Math.floor(ago);
    customers.set(openid, { lastMessageAt, lastExchangeAt: lastMessageAt, sentSinceMessage: 0, typingUntil: 0 });
  });
  const sessions = new Map<string, { kfAccount: string; createdAt: number }>();
  const online = [...agents.values()].filter((agent) => agent.online);
  // A few customers in session and a few waiting, taken from the recent half.
  for (let c = 0; c < Math.min(6, Math.floor(openids.length / 4)); c++) {
    const agent = online[c % Math.max(1, online.length)];
    const openid = openids[c] as string;
    if (agent)
      sessions.set(openid, {
        kfAccount: agent.kfAccount,
        createdAt: (customers.get(openid) as CustomerState).lastMessageAt,
      });
  }
  const waiting = new Map<string, number>();
  for (let c = Math.floor(openids.length / 2) - 1; c >= Math.max(6, Math.floor(openids.length / 2) - 4); c--) {
    const openid = openids[c] as string;
    waiting.set(openid, (customers.get(openid) as CustomerState).lastMessageAt);
  }
  return { account, agents, nextKfId: 1001 + seeded.length, sessions, waiting, customers, live: [] };
}
