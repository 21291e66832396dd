import { firstZodIssue } from '@kefu/core';
import { registerSecret } from '@kefu/core/redaction';
import type { z } from 'zod';
import { emulatorError } from '../errors.js';
import { type FaultOptions, faultRoll, faultsApplyTo } from '../faults.js';
import type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { hash32, stableId, unitFloat } from '../seeded-random.js';
import { answerWechatControl } from './wechat-control.js';
import {
  Opercode,
  shanghaiDay,
  WechatDataSet,
  type WechatEmulatorOptions,
  type WechatRawRecord,
} from './wechat-data.js';
import { WECHAT_OK, WechatErrcode, wechatError } from './wechat-errcodes.js';
import { parseWechatKnobs, type WechatKnobs, type WechatKnobsInput } from './wechat-knobs.js';
import { MsgidLayout } from './wechat-msgids.js';
import { answerMsgList } from './wechat-msglist.js';
import type { WechatRecordKnobs } from './wechat-record-knobs.js';
import { type LiveRecord, RecordWindow, type WindowEntry } from './wechat-record-window.js';
import {
  DeleteKfAccountRequestSchema,
  InviteWorkerRequestSchema,
  KfAccountRequestSchema,
  MessagePayloadSchemas,
  type MessageType,
  MsgListRequestSchema,
  RecordPageRequestSchema,
  SendMessageRequestSchema,
  SessionRequestSchema,
  StableTokenRequestSchema,
  TypingRequestSchema,
} from './wechat-schemas.js';
import { TokenAuthority } from './wechat-tokens.js';

/**
 * The emulated WeChat Official Account customer-service platform: tokens, agents,
 * sessions, outgoing messages, typing and the three record APIs, over the seeded data
 * of {@link WechatDataSet} plus the state changed at run time.
 */

/** What the platform is built from. */
export interface WechatPlatformOptions {
  seed: string;
  wechat: WechatEmulatorOptions;
  clock: EmulatorClock;
  faults: () => FaultOptions;
}

/** What `RunningEmulator.wechat` exposes. */
export interface WechatDescription {
  baseUrl: string;
  accounts: Array<{ appId: string; secret: string; name: string }>;
  /** The records getmsglist serves over any range, in API order (half-open [from, to)). */
  expectedRecords(q: { appId: string; from: Date; to: Date; openid?: string }): WechatRawRecord[];
  /** The same with each record's msgid (the account-wide id getmsglist pages on). */
  expectedEntries(q: { appId: string; from: Date; to: Date; openid?: string }): WindowEntry[];
  /** Every run-time knob in force (getmsglist readings, `kfaccount/del` forms). */
  knobs(): WechatKnobs;
  /** Changes some knobs; the others stay (EMULATOR_OPTIONS_INVALID for a bad value). */
  setKnobs(knobs: WechatKnobsInput): WechatKnobs;
  /** The getmsglist readings in force. */
  recordKnobs(): WechatRecordKnobs;
  /** Changes some getmsglist readings; the others stay (EMULATOR_OPTIONS_INVALID for a bad value). */
  setRecordKnobs(knobs: Partial<WechatRecordKnobs>): WechatRecordKnobs;
  /** Revokes every access token of an app id (40001 next); returns how many were live. */
  revokeTokens(appId: string): number;
  /** Expires every access token of an app id (42001 next); returns how many were live. */
  expireTokens(appId: string): number;
}

interface AgentState {
  kfAccount: string;
  kfId: number;
  nickname: string;
  headImgUrl: string;
  wechatUser?: string;
  invite?: { wechatUser: string; at: number; expiresAt: number };
  online: boolean;
}

interface CustomerState {
  /** Last message from the customer (ms): opens the 48 h window and resets the send count. */
  lastMessageAt: number;
  /** Last message either way (ms): typing needs one in the last 30 s. */
  lastExchangeAt: number;
  sentSinceMessage: number;
  typingUntil: number;
}

interface AccountState {
  account: number;
  agents: Map<string, AgentState>;
  nextKfId: number;
  sessions: Map<string, { kfAccount: string; createdAt: number }>;
  waiting: Map<string, number>;
  customers: Map<string, CustomerState>;
  live: LiveRecord[];
}

/** The platform's options with defaults applied (the knobs apart: they change at run time). */
type ResolvedOptions = Required<Omit<WechatEmulatorOptions, 'records' | 'deleteAgent'>>;

const MAX_AGENTS = 100;
const MAX_AVATAR_BYTES = 5 * 1024 * 1024;
const REPLY_WINDOW_MS = 48 * 3600_000;
const TYPING_EXCHANGE_MS = 30_000;
const TYPING_DURATION_MS = 15_000;
const INVITE_LIFETIME_S = 7 * 86_400;
const PREFIX = /^[A-Za-z0-9_]{1,10}$/;
const WECHAT_USER = /^(?:wxid_[A-Za-z0-9_-]{4,30}|[A-Za-z][-_A-Za-z0-9]{5,19})$/;
const RECORD_PATHS = new Set([
  '/customservice/msgrecord/getmsglist',
  '/customservice/msgrecord/getrecord',
  '/cgi-bin/customservice/getrecord',
]);
const DELETE_AGENT_PATH = '/customservice/kfaccount/del';
/** Paths under WeChat's API prefixes: an unknown one answers like the platform, not like a missing route. */
const WECHAT_API_PATH = /^\/(?:cgi-bin|customservice)(?:\/|$)/;

type Handler = (ctx: CallContext) => Promise<EmulatorResponse> | EmulatorResponse;

interface CallContext {
  request: EmulatorRequest;
  account: number;
  state: AccountState;
  now: number;
}

const ok = (body: unknown = WECHAT_OK): EmulatorResponse => ({ status: 200, body });
const fail = (errcode: number, detail?: string): EmulatorResponse => ({
  status: 200,
  body: wechatError(errcode, detail),
});

/** Creates the WeChat platform. */
export function createWechatPlatform(options: WechatPlatformOptions) {
  return new WechatPlatform(options);
}

/** The emulated WeChat MP platform (see {@link createWechatPlatform}). */
export class WechatPlatform implements EmulatedPlatform {
  readonly name = 'wechat';
  readonly data: WechatDataSet;
  readonly #clock: EmulatorClock;
  readonly #faults: () => FaultOptions;
  readonly #tokens: TokenAuthority;
  readonly #states: AccountState[];
  readonly #options: ResolvedOptions;
  readonly #msgids: MsgidLayout;
  #knobs: WechatKnobs;
  readonly #routes: Record<string, { methods: string[]; handler: Handler }>;
  #authenticatedCalls = 0;
  #recordCalls = 0;

  constructor(options: WechatPlatformOptions) {
    const w = options.wechat;
    this.#options = {
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
      uniformDays: w.uniformDays ?? false,
      liveRecordsPerSecond: w.liveRecordsPerSecond ?? 1000,
    };
    this.#knobs = parseWechatKnobs({ records: w.records, deleteAgent: w.deleteAgent });
    this.#clock = options.clock;
    this.#faults = options.faults;
    const start = options.clock.now();
    this.data = new WechatDataSet(options.seed, this.#options, start);
    this.#msgids = new MsgidLayout(this.data, this.#options);
    for (const account of this.data.accounts) registerSecret(account.secret);
    this.#tokens = new TokenAuthority(options.seed, {
      expiresInSeconds: this.#options.tokenExpiresInSeconds,
      overlapSeconds: this.#options.tokenOverlapSeconds,
    });
    this.#states = this.data.accounts.map((account) => this.#seedState(options.seed, account.index, start));
    const post = ['POST'];
    const get = ['GET'];
    this.#routes = {
      '/cgi-bin/customservice/getkflist': { methods: get, handler: (c) => this.#kfList(c) },
      '/cgi-bin/customservice/getonlinekflist': { methods: get, handler: (c) => this.#onlineKfList(c) },
      '/customservice/kfaccount/add': { methods: post, handler: (c) => this.#addAgent(c) },
      '/customservice/kfaccount/update': { methods: post, handler: (c) => this.#updateAgent(c) },
      '/customservice/kfaccount/inviteworker': { methods: post, handler: (c) => this.#inviteWorker(c) },
      '/customservice/kfaccount/uploadheadimg': { methods: post, handler: (c) => this.#uploadHeadImg(c) },
      '/customservice/kfaccount/del': { methods: ['GET', 'POST'], handler: (c) => this.#deleteAgent(c) },
      '/customservice/kfsession/create': { methods: post, handler: (c) => this.#createSession(c) },
      '/customservice/kfsession/close': { methods: post, handler: (c) => this.#closeSession(c) },
      '/customservice/kfsession/getsession': { methods: get, handler: (c) => this.#getSession(c) },
      '/customservice/kfsession/getsessionlist': { methods: get, handler: (c) => this.#sessionList(c) },
      '/customservice/kfsession/getwaitcase': { methods: get, handler: (c) => this.#waitCase(c) },
      '/customservice/msgrecord/getmsglist': { methods: post, handler: (c) => this.#msgList(c) },
      '/customservice/msgrecord/getrecord': { methods: post, handler: (c) => this.#recordPage(c, 50) },
      '/cgi-bin/customservice/getrecord': { methods: post, handler: (c) => this.#recordPage(c, 1000) },
      '/cgi-bin/message/custom/send': { methods: post, handler: (c) => this.#send(c) },
      '/cgi-bin/message/custom/typing': { methods: post, handler: (c) => this.#typing(c) },
    };
  }

  /** The `RunningEmulator.wechat` view for a server at `baseUrl`. */
  describe(baseUrl: string): WechatDescription {
    return {
      baseUrl,
      accounts: this.data.accounts.map(({ appId, secret, name }) => ({ appId, secret, name })),
      expectedRecords: (q) => this.expectedRecords(q),
      expectedEntries: (q) => this.groundTruth(q),
      knobs: () => this.knobs(),
      setKnobs: (knobs) => this.setKnobs(knobs),
      recordKnobs: () => this.knobs().records,
      setRecordKnobs: (records) => this.setKnobs({ records }).records,
      revokeTokens: (appId) => this.revokeTokens(appId),
      expireTokens: (appId) => this.expireTokens(appId),
    };
  }

  /** Ground truth for getmsglist over any range: the same objects the API returns, in API order. */
  expectedRecords(q: { appId: string; from: Date; to: Date; openid?: string }): WechatRawRecord[] {
    return this.groundTruth(q).map((entry) => entry.record);
  }

  /** The ground truth with each record's msgid, at most `limit` entries (half-open `[from, to)`, any length). */
  groundTruth(q: { appId: string; from: Date; to: Date; openid?: string; limit?: number }): WindowEntry[] {
    const account = this.#accountIndex(q.appId);
    const window = new RecordWindow(
      this.data,
      {
        account,
        start: Math.ceil(q.from.getTime() / 1000),
        end: Math.ceil(q.to.getTime() / 1000),
        messagesOnly: true,
        ...(q.openid === undefined ? {} : { openid: q.openid }),
        nowSeconds: this.#listedUntil(this.#clock.now()),
      },
      this.#states[account]?.live ?? [],
      this.#msgids,
    );
    return window.entries(1, q.limit ?? window.total);
  }

  /** The last second whose records the record APIs list at `now` (ms): `visibilityLagSeconds` earlier. */
  #listedUntil(now: number): number {
    return sec(now) - this.#knobs.records.visibilityLagSeconds;
  }

  /** The index of an app id's account; EMULATOR_UNKNOWN_ACCOUNT when it is not one. */
  #accountIndex(appId: string): number {
    const account = this.data.account(appId);
    if (!account)
      throw emulatorError('EMULATOR_UNKNOWN_ACCOUNT', `unknown appId ${appId}; use one of emulator.wechat.accounts`);
    return account.index;
  }

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
    this.#recordCalls = 0;
    this.#authenticatedCalls = 0;
  }

  /** Answers a WeChat API call, or undefined for a path WeChat does not own. */
  async handle(request: EmulatorRequest): Promise<EmulatorResponse | undefined> {
    const answer = await this.#answer(request);
    return answer && withRequestId(answer, request);
  }

  /** The platform's answer to an API call, before the request id is added to errors. */
  async #answer(request: EmulatorRequest): Promise<EmulatorResponse | undefined> {
    const path = request.url.pathname;
    const now = request.receivedAt;
    if (path === '/cgi-bin/token') return { ...this.#basicToken(request, now), exemptFromFaults: true };
    if (path === '/cgi-bin/stable_token') return { ...this.#stableToken(request, now), exemptFromFaults: true };
    const route = this.#routes[path];
    if (!route) return WECHAT_API_PATH.test(path) ? unknownApi(request) : undefined;
    const methods = this.#methodsOf(path, route.methods);
    if (!methods.includes(request.method)) {
      return methods.includes('POST')
        ? fail(WechatErrcode.requirePost, `use ${methods.join(' or ')}`)
        : fail(WechatErrcode.requireGet, `use ${methods.join(' or ')}`);
    }

    const token = request.url.searchParams.get('access_token');
    const check = this.#tokens.check(token, now);
    if ('errcode' in check) return fail(check.errcode);
    const platformFault = this.#platformFault(request, path, token ?? '', now);
    if (platformFault) return platformFault;
    const state = this.#states[check.account] as AccountState;
    return route.handler({ request, account: check.account, state, now });
  }

  async close(): Promise<void> {}

  /** The methods a route takes now: `kfaccount/del` follows the `deleteAgent` knob. */
  #methodsOf(path: string, methods: string[]): string[] {
    if (path !== DELETE_AGENT_PATH || this.#knobs.deleteAgent === 'both') return methods;
    return [this.#knobs.deleteAgent.toUpperCase()];
  }

  // ---- faults --------------------------------------------------------------------

  #platformFault(request: EmulatorRequest, path: string, token: string, now: number): EmulatorResponse | undefined {
    const faults = this.#faults();
    if (!faultsApplyTo(faults, path, false)) return undefined;
    const sequence = request.sequence ?? 0;
    this.#authenticatedCalls++;
    if (faults.revokeTokenEveryCalls && this.#authenticatedCalls % faults.revokeTokenEveryCalls === 0) {
      this.#tokens.revoke(token, now);
      return { ...fail(WechatErrcode.invalidCredential), fault: 'revoked' };
    }
    if (faults.wechatBusyRate && faultRoll(faults, sequence, 'busy') < faults.wechatBusyRate) {
      return { ...fail(WechatErrcode.busy), fault: 'busy' };
    }
    if (faults.wechatMinuteQuotaRate && faultRoll(faults, sequence, 'minute') < faults.wechatMinuteQuotaRate) {
      return { ...fail(WechatErrcode.minuteQuota), fault: 'minute-quota' };
    }
    if (RECORD_PATHS.has(path)) {
      this.#recordCalls++;
      const after = faults.wechatDailyQuotaAfterCalls;
      if (after !== undefined && this.#recordCalls > after)
        return { ...fail(WechatErrcode.dailyQuota), fault: 'daily-quota' };
    }
    return undefined;
  }

  // ---- tokens --------------------------------------------------------------------

  #basicToken(request: EmulatorRequest, now: number): EmulatorResponse {
    const q = request.url.searchParams;
    if (q.get('grant_type') !== 'client_credential') return fail(WechatErrcode.invalidGrantType);
    const appId = q.get('appid');
    const secret = q.get('secret');
    if (!appId) return fail(WechatErrcode.missingAppid);
    const account = this.data.account(appId);
    if (!account) return fail(WechatErrcode.invalidAppid);
    if (!secret) return fail(WechatErrcode.missingSecret);
    if (secret !== account.secret) return fail(WechatErrcode.invalidSecret);
    return ok(this.#tokens.issueBasic(account.index, now));
  }

  #stableToken(request: EmulatorRequest, now: number): EmulatorResponse {
    if (request.method !== 'POST') return fail(WechatErrcode.requirePost);
    const body = parseBody(request, StableTokenRequestSchema);
    if ('error' in body) return body.error;
    const { grant_type, appid, secret, force_refresh } = body.value;
    if (grant_type !== 'client_credential') return fail(WechatErrcode.invalidGrantType);
    if (!appid) return fail(WechatErrcode.missingAppid);
    const account = this.data.account(appid);
    if (!account) return fail(WechatErrcode.invalidAppid);
    if (!secret) return fail(WechatErrcode.missingSecret);
    if (secret !== account.secret) return fail(WechatErrcode.invalidSecret);
    const issued = this.#tokens.issueStable(account.index, now, force_refresh === true);
    return 'errcode' in issued
      ? fail(issued.errcode, 'force_refresh is limited to 20 per day, 30 s apart')
      : ok(issued);
  }

  // ---- emulator control (not part of WeChat; the endpoints are in wechat-control.ts) ---

  /** Answers `/__emulator/wechat/<path>` (see wechat-control.ts). */
  async control(request: EmulatorRequest, path: string): Promise<EmulatorResponse | undefined> {
    return answerWechatControl(this, request, path);
  }

  /** Revokes every access token of an app id now (40001 next); returns how many were live. */
  revokeTokens(appId: string): number {
    return this.#tokens.revokeAccount(this.#accountIndex(appId), this.#clock.now());
  }

  /** Expires every access token of an app id now (42001 next); returns how many were live. */
  expireTokens(appId: string): number {
    return this.#tokens.expireAccount(this.#accountIndex(appId), this.#clock.now());
  }

  /** An account's customers with the time of their last message (unix seconds). */
  customersOf(appId: string): Array<{ openid: string; last_message_time: number }> {
    const account = this.#accountIndex(appId);
    const state = this.#states[account] as AccountState;
    return this.data.customers(account).map((openid) => {
      const customer = state.customers.get(openid) as CustomerState;
      return { openid, last_message_time: Math.floor(customer.lastMessageAt / 1000) };
    });
  }

  /** A customer writes to the account now (opens the 48 h window, queues them without a session); false for an unknown openid. */
  customerWrites(appId: string, openid: string, text: string, now: number): boolean {
    const state = this.#states[this.#accountIndex(appId)] as AccountState;
    if (!state.customers.has(openid)) return false;
    this.#customerWrote(state, openid, text, now);
    return true;
  }

  // ---- agents --------------------------------------------------------------------

  #kfList({ state, now }: CallContext): EmulatorResponse {
    const kf_list = [...state.agents.values()].map((agent) => {
      this.#settleInvite(agent, now);
      return {
        kf_account: agent.kfAccount,
        kf_nick: agent.nickname,
        kf_id: String(agent.kfId),
        kf_headimgurl: agent.headImgUrl,
        ...(agent.wechatUser ? { kf_wx: agent.wechatUser } : {}),
        ...(agent.invite
          ? {
              invite_wx: agent.invite.wechatUser,
              invite_expire_time: agent.invite.expiresAt,
              invite_status: 'waiting',
            }
          : {}),
      };
    });
    return ok({ kf_list });
  }

  #onlineKfList({ state, now }: CallContext): EmulatorResponse {
    const kf_online_list = [...state.agents.values()]
      .filter((agent) => {
        this.#settleInvite(agent, now);
        return agent.wechatUser !== undefined && agent.online;
      })
      .map((agent) => ({
        kf_account: agent.kfAccount,
        status: 1,
        // A number here and a string in getkflist: the docs disagree, clients must accept both.
        kf_id: agent.kfId,
        accepted_case: [...state.sessions.values()].filter((s) => s.kfAccount === agent.kfAccount).length,
      }));
    return ok({ kf_online_list });
  }

  #addAgent(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, KfAccountRequestSchema);
    if ('error' in body) return body.error;
    const { kf_account, nickname } = body.value;
    const invalid = this.#checkAgentAccount(ctx.account, kf_account) ?? checkNickname(nickname);
    if (invalid) return invalid;
    if (ctx.state.agents.has(kf_account)) return fail(WechatErrcode.kfExists);
    if (ctx.state.agents.size >= MAX_AGENTS) return fail(WechatErrcode.kfLimit, `at most ${MAX_AGENTS} agents`);
    const kfId = ctx.state.nextKfId++;
    ctx.state.agents.set(kf_account, { kfAccount: kf_account, kfId, nickname, headImgUrl: '', online: false });
    return ok();
  }

  #updateAgent(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, KfAccountRequestSchema);
    if ('error' in body) return body.error;
    const agent = ctx.state.agents.get(body.value.kf_account);
    if (!agent) return fail(WechatErrcode.invalidKfAccount);
    const invalid = checkNickname(body.value.nickname);
    if (invalid) return invalid;
    agent.nickname = body.value.nickname;
    return ok();
  }

  #inviteWorker(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, InviteWorkerRequestSchema);
    if ('error' in body) return body.error;
    const agent = ctx.state.agents.get(body.value.kf_account);
    if (!agent) return fail(WechatErrcode.invalidKfAccount);
    this.#settleInvite(agent, ctx.now);
    if (agent.wechatUser) return fail(WechatErrcode.alreadyBound);
    if (agent.invite) return fail(WechatErrcode.pendingInvite);
    const user = body.value.invite_wx;
    if (!WECHAT_USER.test(user))
      return fail(
        WechatErrcode.invalidWechatUser,
        'a WeChat id is 6-20 characters [A-Za-z0-9_-] starting with a letter',
      );
    for (const other of ctx.state.agents.values()) {
      if (other.wechatUser === user) return fail(WechatErrcode.alreadyWorker);
      if (other.invite?.wechatUser === user) return fail(WechatErrcode.alreadyInvited);
    }
    agent.invite = { wechatUser: user, at: ctx.now, expiresAt: Math.floor(ctx.now / 1000) + INVITE_LIFETIME_S };
    this.#settleInvite(agent, ctx.now);
    return ok();
  }

  async #uploadHeadImg(ctx: CallContext): Promise<EmulatorResponse> {
    const kfAccount = ctx.request.url.searchParams.get('kf_account') ?? '';
    const agent = ctx.state.agents.get(kfAccount);
    if (!agent) return fail(WechatErrcode.invalidKfAccount);
    const contentType = String(ctx.request.headers['content-type'] ?? '');
    let media: ReturnType<FormData['get']> = null;
    try {
      // The WHATWG Request parses multipart/form-data without extra dependencies.
      const form = await new Request('http://emulator.local/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: ctx.request.body,
      }).formData();
      media = form.get('media');
    } catch {
      return fail(WechatErrcode.missingMedia, 'send multipart/form-data with a file field named "media"');
    }
    if (!media || typeof media === 'string') return fail(WechatErrcode.missingMedia, 'field "media" must be a file');
    if (media.size > MAX_AVATAR_BYTES) return fail(WechatErrcode.invalidMediaSize, 'the avatar must be at most 5 MB');
    const head = new Uint8Array(await media.slice(0, 8).arrayBuffer());
    const isJpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
    const isPng = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
    if (!isJpeg && !isPng) return fail(WechatErrcode.invalidMediaType, 'only jpg and png avatars are accepted');
    agent.headImgUrl = `http://mmbiz.qpic.cn/mmbiz/${stableId(40, kfAccount, ctx.now, media.size)}/300?wx_fmt=${isPng ? 'png' : 'jpeg'}`;
    return ok();
  }

  #deleteAgent(ctx: CallContext): EmulatorResponse {
    let kfAccount = ctx.request.url.searchParams.get('kf_account') ?? undefined;
    if (ctx.request.method === 'POST') {
      const body = parseBody(ctx.request, DeleteKfAccountRequestSchema);
      if ('error' in body) return body.error;
      kfAccount = body.value.kf_account;
    }
    if (!kfAccount || !ctx.state.agents.has(kfAccount)) return fail(WechatErrcode.invalidKfAccount);
    ctx.state.agents.delete(kfAccount);
    for (const [openid, session] of ctx.state.sessions) {
      if (session.kfAccount === kfAccount) this.#endSession(ctx.state, openid, ctx.now);
    }
    return ok();
  }

  // ---- sessions ------------------------------------------------------------------

  #createSession(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, SessionRequestSchema);
    if ('error' in body) return body.error;
    const { kf_account, openid } = body.value;
    if (!ctx.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
    const agent = ctx.state.agents.get(kf_account);
    if (!agent) return fail(WechatErrcode.invalidKfAccount);
    this.#settleInvite(agent, ctx.now);
    if (!agent.wechatUser) return fail(WechatErrcode.kfNotBound, 'invite a WeChat user to the agent first');
    if (!agent.online) return fail(WechatErrcode.kfOffline);
    const existing = ctx.state.sessions.get(openid);
    // Creating a session that already exists with the same agent succeeds (documented).
    if (existing?.kfAccount === kf_account) return ok();
    if (existing) return fail(WechatErrcode.servedByOther);
    ctx.state.waiting.delete(openid);
    ctx.state.sessions.set(openid, { kfAccount: kf_account, createdAt: ctx.now });
    this.#addLive(ctx.state, {
      openid,
      opercode: Opercode.initiated,
      text: '',
      time: sec(ctx.now),
      worker: kf_account,
    });
    return ok();
  }

  #closeSession(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, SessionRequestSchema);
    if ('error' in body) return body.error;
    const { kf_account, openid } = body.value;
    if (!ctx.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
    if (!ctx.state.agents.has(kf_account)) return fail(WechatErrcode.invalidKfAccount);
    const session = ctx.state.sessions.get(openid);
    if (!session) return fail(WechatErrcode.noSession);
    if (session.kfAccount !== kf_account) return fail(WechatErrcode.servedByOther);
    this.#endSession(ctx.state, openid, ctx.now);
    return ok();
  }

  #getSession(ctx: CallContext): EmulatorResponse {
    const openid = ctx.request.url.searchParams.get('openid') ?? '';
    if (!ctx.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
    const session = ctx.state.sessions.get(openid);
    return ok({ ...WECHAT_OK, createtime: session ? sec(session.createdAt) : 0, kf_account: session?.kfAccount ?? '' });
  }

  #sessionList(ctx: CallContext): EmulatorResponse {
    const kfAccount = ctx.request.url.searchParams.get('kf_account') ?? '';
    if (!ctx.state.agents.has(kfAccount)) return fail(WechatErrcode.invalidKfAccount);
    const sessionlist = [...ctx.state.sessions]
      .filter(([, session]) => session.kfAccount === kfAccount)
      .map(([openid, session]) => ({ createtime: sec(session.createdAt), openid }));
    return ok({ ...WECHAT_OK, sessionlist });
  }

  #waitCase(ctx: CallContext): EmulatorResponse {
    // At most the 100 customers that have waited longest (seed 003).
    const waitcaselist = [...ctx.state.waiting]
      .sort((a, b) => a[1] - b[1])
      .slice(0, 100)
      .map(([openid, since]) => ({ latest_time: sec(since), openid }));
    return ok({ ...WECHAT_OK, count: ctx.state.waiting.size, waitcaselist });
  }

  // ---- messages ------------------------------------------------------------------

  #send(ctx: CallContext): EmulatorResponse {
    const raw = parseJson(ctx.request);
    if ('error' in raw) return raw.error;
    const envelope = SendMessageRequestSchema.safeParse(raw.value);
    if (!envelope.success) return fail(WechatErrcode.dataFormat, describeIssue(envelope.error));
    const { touser, msgtype, customservice } = envelope.data;
    if (!(msgtype in MessagePayloadSchemas))
      return fail(WechatErrcode.invalidMessageType, `unknown msgtype ${msgtype}`);
    const type = msgtype as MessageType;
    const payload = MessagePayloadSchemas[type].safeParse((raw.value as Record<string, unknown>)[type]);
    if (!payload.success) return fail(WechatErrcode.dataFormat, `${type}.${describeIssue(payload.error)}`);
    if (type === 'news' && (payload.data as { articles: unknown[] }).articles.length > 1) {
      return fail(WechatErrcode.articleLimit, 'a customer-service news message carries exactly one article');
    }
    const customer = ctx.state.customers.get(touser);
    if (!customer) return fail(WechatErrcode.invalidOpenid);
    if (customservice && !ctx.state.agents.has(customservice.kf_account)) return fail(WechatErrcode.invalidKfAccount);
    if (ctx.now - customer.lastMessageAt > REPLY_WINDOW_MS) return fail(WechatErrcode.replyTimeLimit);
    if (customer.sentSinceMessage >= this.#options.messagesPerInteraction) return fail(WechatErrcode.sendCountLimit);
    customer.sentSinceMessage++;
    customer.lastExchangeAt = ctx.now;
    customer.typingUntil = 0;
    const text =
      type === 'text'
        ? (payload.data as { content: string }).content
        : type === 'image' || type === 'voice' || type === 'video'
          ? `[${type}]`
          : `[${type}]`;
    const worker = customservice?.kf_account ?? ctx.state.sessions.get(touser)?.kfAccount ?? '';
    this.#addLive(ctx.state, { openid: touser, opercode: Opercode.agentSent, text, time: sec(ctx.now), worker });
    return ok();
  }

  #typing(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, TypingRequestSchema);
    if ('error' in body) return body.error;
    const { touser, command } = body.value;
    if (command !== 'Typing' && command !== 'CancelTyping') return fail(WechatErrcode.badTypingCommand);
    const customer = ctx.state.customers.get(touser);
    if (!customer) return fail(WechatErrcode.invalidOpenid);
    if (ctx.now - customer.lastMessageAt > REPLY_WINDOW_MS) return fail(WechatErrcode.replyTimeLimit);
    if (ctx.now - customer.lastExchangeAt > TYPING_EXCHANGE_MS) return fail(WechatErrcode.noRecentExchange);
    if (command === 'CancelTyping') {
      customer.typingUntil = 0;
      return ok();
    }
    if (customer.typingUntil > ctx.now) return fail(WechatErrcode.alreadyTyping);
    customer.typingUntil = ctx.now + TYPING_DURATION_MS;
    return ok();
  }

  // ---- records -------------------------------------------------------------------

  #msgList(ctx: CallContext): EmulatorResponse {
    const body = parseBody(ctx.request, MsgListRequestSchema, WechatErrcode.badQuery);
    if ('error' in body) return body.error;
    const { starttime, endtime, msgid, number } = body.value;
    if (number < 1 || number > 10_000) return fail(WechatErrcode.badQuery, 'number must be 1..10000');
    if (endtime <= starttime) return fail(WechatErrcode.badQuery, 'endtime must be after starttime');
    if (endtime - starttime > 86_400) return fail(WechatErrcode.queryRange, 'at most 24 hours per query');
    // The docs do not say whether a record at exactly `endtime` is in the window: a knob.
    const end = this.#knobs.records.endtime === 'inclusive' ? endtime + 1 : endtime;
    const window = this.#window(ctx, starttime, end, true);
    return this.#records(answerMsgList(window, { msgid, number }, this.#knobs.records));
  }

  #recordPage(ctx: CallContext, maxPageSize: number): EmulatorResponse {
    const body = parseBody(ctx.request, RecordPageRequestSchema, WechatErrcode.badQuery);
    if ('error' in body) return body.error;
    const { starttime, endtime, openid, pagesize, pageindex } = body.value;
    if (pagesize < 1 || pagesize > maxPageSize)
      return fail(WechatErrcode.badQuery, `pagesize must be 1..${maxPageSize}`);
    if (endtime <= starttime) return fail(WechatErrcode.badQuery, 'endtime must be after starttime');
    if (endtime - starttime > 86_400) return fail(WechatErrcode.queryRange, 'at most 24 hours per query');
    // The legacy API refuses ranges crossing a calendar day (Asia/Shanghai); endtime is exclusive.
    if (maxPageSize === 1000 && shanghaiDay(starttime) !== shanghaiDay(endtime - 1)) {
      return fail(WechatErrcode.queryRange, 'starttime and endtime must be on the same day (Asia/Shanghai)');
    }
    if (openid !== undefined && openid !== '' && !ctx.state.customers.has(openid))
      return fail(WechatErrcode.invalidOpenid);
    const window = this.#window(ctx, starttime, endtime, false, openid || undefined);
    return this.#records({ recordlist: window.page((pageindex - 1) * pagesize + 1, pagesize) });
  }

  /** A record answer; with `rawControlCharacters`, control characters in texts go out unescaped, as the real platform sends them. */
  #records(body: { recordlist: WechatRawRecord[]; number?: number; msgid?: number }): EmulatorResponse {
    if (!this.#options.rawControlCharacters) return ok(body);
    return ok(unescapeControlCharacters(JSON.stringify(body)));
  }

  #window(ctx: CallContext, start: number, end: number, messagesOnly: boolean, openid?: string): RecordWindow {
    return new RecordWindow(
      this.data,
      {
        account: ctx.account,
        start,
        end,
        messagesOnly,
        ...(openid === undefined ? {} : { openid }),
        nowSeconds: this.#listedUntil(ctx.now),
      },
      ctx.state.live,
      this.#msgids,
    );
  }

  // ---- state ---------------------------------------------------------------------

  #seedState(seed: string, account: number, start: number): AccountState {
    const agents = new Map<string, AgentState>();
    const seeded = this.data.agents(account);
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
    const openids = this.data.customers(account);
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

  #settleInvite(agent: AgentState, now: number): void {
    // Invited WeChat users accept after `inviteAcceptMs` of emulator time, then come online.
    if (agent.invite && now - agent.invite.at >= this.#options.inviteAcceptMs) {
      agent.wechatUser = agent.invite.wechatUser;
      agent.invite = undefined;
      agent.online = true;
    }
  }

  #endSession(state: AccountState, openid: string, now: number): void {
    const session = state.sessions.get(openid);
    state.sessions.delete(openid);
    if (session)
      this.#addLive(state, { openid, opercode: Opercode.closed, text: '', time: sec(now), worker: session.kfAccount });
  }

  #customerWrote(state: AccountState, openid: string, text: string, now: number): void {
    const customer = state.customers.get(openid) as CustomerState;
    customer.lastMessageAt = now;
    customer.lastExchangeAt = now;
    customer.sentSinceMessage = 0;
    const session = state.sessions.get(openid);
    if (session) {
      this.#addLive(state, {
        openid,
        opercode: Opercode.agentReceived,
        text,
        time: sec(now),
        worker: session.kfAccount,
      });
      return;
    }
    if (!state.waiting.has(openid)) {
      state.waiting.set(openid, now);
      this.#addLive(state, { openid, opercode: Opercode.waiting, text: '', time: sec(now), worker: '' });
    }
    this.#addLive(state, { openid, opercode: Opercode.accountReceived, text, time: sec(now), worker: '' });
  }

  /** Adds a run-time record; the clock never goes back, so `live` stays in time order. */
  #addLive(state: AccountState, record: WechatRawRecord): void {
    let ordinal = 0;
    while (state.live[state.live.length - 1 - ordinal]?.record.time === record.time) ordinal++;
    state.live.push({ record, msgid: this.#msgids.live(state.account, record.time, ordinal) });
  }

  #checkAgentAccount(account: number, kfAccount: string): EmulatorResponse | undefined {
    const [prefix, suffix, ...rest] = kfAccount.split('@');
    if (rest.length > 0 || !prefix || !PREFIX.test(prefix) || suffix !== this.data.accounts[account]?.wechatId) {
      return fail(
        WechatErrcode.invalidKfAccountFormat,
        `kf_account is prefix@${this.data.accounts[account]?.wechatId} with a prefix of 1-10 [A-Za-z0-9_]`,
      );
    }
    return undefined;
  }
}

/**
 * Turns JSON escapes of control characters (`\\t`, `\\n`, `\\r`, `\\b`, `\\f`, `\\u0000`–`\\u001f`) back into
 * the raw characters. An escape preceded by an odd number of backslashes is text, not an escape, and stays.
 */
export function unescapeControlCharacters(json: string): string {
  const short: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f' };
  return json.replace(
    /(?<!\\)((?:\\\\)*)\\(?:([tnrbf])|u00([01][0-9a-fA-F]))/g,
    (_match, lead: string, letter?: string, hex?: string) =>
      lead + (letter ? (short[letter] as string) : String.fromCharCode(Number.parseInt(hex as string, 16))),
  );
}

function checkNickname(nickname: string): EmulatorResponse | undefined {
  const length = [...nickname].length;
  if (length < 1 || length > 16) return fail(WechatErrcode.invalidNickname, 'nickname must be 1-16 characters');
  return undefined;
}

function sec(ms: number): number {
  return Math.floor(ms / 1000);
}

function parseJson(request: EmulatorRequest): { value: unknown } | { error: EmulatorResponse } {
  try {
    return { value: JSON.parse(request.body.toString('utf8')) };
  } catch {
    return { error: fail(WechatErrcode.dataFormat, 'the body is not valid JSON') };
  }
}

function parseBody<T extends z.ZodType>(
  request: EmulatorRequest,
  schema: T,
  errcode: number = WechatErrcode.dataFormat,
): { value: z.infer<T> } | { error: EmulatorResponse } {
  const raw = parseJson(request);
  if ('error' in raw) return raw;
  const parsed = schema.safeParse(raw.value);
  return parsed.success ? { value: parsed.data } : { error: fail(errcode, describeIssue(parsed.error)) };
}

function describeIssue(error: z.ZodError): string {
  return firstZodIssue(error, 'body');
}

/**
 * The answer to a path under /cgi-bin/ or /customservice/ that is no API. Not definitive: no
 * captured answer of api.weixin.qq.com to an unknown path was found. The official global
 * return codes define 40066 "invalid url" as "请检查API的URL是否与文档一致" (check the API URL
 * against the docs: https://developers.weixin.qq.com/doc/store/API/basics/commErrCode.html), and
 * SDK comments quote it for bad URLs ({"errcode":40066,"errmsg":"invalid url hint: [Fdd38a0167vr47!]"}),
 * so the emulator answers that, HTTP 200 like every WeChat error, before looking at the token.
 */
function unknownApi(request: EmulatorRequest): EmulatorResponse {
  return fail(WechatErrcode.invalidUrl, `no API ${request.method} ${request.url.pathname}`);
}

/**
 * Adds the request id WeChat appends to every error message (` rid: 6543a1b2-0c1d2e3f-4a5b6c7d`:
 * the request's unix second in hex, then two hex words), so clients meet the real shape.
 */
function withRequestId(answer: EmulatorResponse, request: EmulatorRequest): EmulatorResponse {
  const body = answer.body as { errcode?: unknown; errmsg?: unknown } | null;
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return answer;
  if (typeof body.errcode !== 'number' || body.errcode === 0 || typeof body.errmsg !== 'string') return answer;
  const sequence = request.sequence ?? 0;
  const hex = (value: number) => value.toString(16).padStart(8, '0');
  const rid = `${hex(sec(request.receivedAt))}-${hex(hash32('rid', sequence, 1))}-${hex(hash32('rid', sequence, 2))}`;
  return { ...answer, body: { ...body, errmsg: `${body.errmsg} rid: ${rid}` } };
}
