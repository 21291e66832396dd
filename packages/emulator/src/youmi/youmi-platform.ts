import { registerSecret } from '@kefu/core/redaction';
import type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { hash32 } from '../seeded-random.js';
import { AccessTokenStore, bearerToken } from './youmi-auth.js';
import { type ChatFilter, encodeResvred, serverMessageId, type YoumiAccount, YoumiDataset } from './youmi-data.js';
import {
  EnvelopeFailure,
  headerValue,
  parseJsonBody,
  tokenRejectionText,
  validateBody,
  YOUMI_ERRMSG,
  youmiEnvelope,
} from './youmi-envelope.js';
import { youmiEmulatorError } from './youmi-errors.js';
import { type YoumiDeliveryAttempt, YoumiEventDispatcher } from './youmi-events.js';
import { type ResolvedYoumiOptions, resolveYoumiOptions, type YoumiEmulatorOptions } from './youmi-options.js';
import {
  activationRequestSchema,
  addTodoRequestSchema,
  applyTakeOverRequestSchema,
  deleteBulkSendRequestSchema,
  fansCountRequestSchema,
  fansListRequestSchema,
  getChatRequestSchema,
  groupsRequestSchema,
  merchantTokenRequestSchema,
  pageRequestSchema,
  registerCallbackRequestSchema,
  reportRequestSchema,
  saveBulkSendRequestSchema,
  sendMessageRequestSchema,
  sendNoticeRequestSchema,
  staffByGroupRequestSchema,
  subscribeEventRequestSchema,
  terminateTakeOverRequestSchema,
  todoListRequestSchema,
  v1CallbackRequestSchema,
  v1ChatListRequestSchema,
  type YoumiEnvelope,
  type YoumiEventType,
  type YoumiRawChat,
  type YoumiRawFan,
  youmiEventTypes,
} from './youmi-schemas.js';
import { formatYoumiTime, parseYoumiTime } from './youmi-time.js';
import { answerTokenRequest, YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
import { answerV1Request, type V1ApiContext, YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';

/** Fault settings the Youmi platform honours itself (the server applies transport faults). */
export interface YoumiFaultSettings {
  /** The bearer / v1 token is revoked every N authenticated calls (that call fails with 401 / 200004). */
  revokeTokenEveryCalls?: number;
  /** Faults apply only to paths matching this regex. */
  pathPattern?: string;
}

/** What `createYoumiPlatform` needs from the emulator. */
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

/** Ground-truth query of {@link YoumiPlatform.expectedChats}: from/to inclusive. */
export interface ExpectedChatsQuery {
  wechatId: number;
  from: Date;
  to: Date;
  fansKey?: string;
}

/** What tests need to talk to the emulated Youmi platform (`RunningEmulator['youmi']`). */
export interface YoumiEmulatorDescription {
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  merchantId: string;
  wechatIds: number[];
  v1: { appId: string; appKey: string };
  /** Chats with from <= ad_chatting_time <= to, in ad_chatting_id order (what GetChat pages through). */
  expectedChats(query: ExpectedChatsQuery): YoumiRawChat[];
  /** Every fan of an account, in GetFansList order. */
  fans(wechatId: number): YoumiRawFan[];
  /** POSTs an event to every registered/subscribed URL; returns the number of targets. */
  emitYoumiEvent(eventType: YoumiEventType, values: Record<string, unknown> | unknown[]): number;
  /** Records a message from a fan now (issend 0) and emits a `chat` event, as a live fan would. */
  simulateFanMessage(input: { wechatId: number; fansKey: string; content: string }): YoumiRawChat;
  /** Resolves when every event delivery in flight (including retries) has finished. */
  whenEventsDelivered(): Promise<void>;
  /** Every event delivery attempt so far. */
  deliveryAttempts(): YoumiDeliveryAttempt[];
}

/** The emulated Youmi platform: an {@link EmulatedPlatform} plus test helpers. */
export interface YoumiPlatform extends EmulatedPlatform {
  /** Connection details, ground truth and event helpers for a server at `baseUrl`. */
  describe(baseUrl: string): YoumiEmulatorDescription;
  /** Chats with from <= time <= to, in ad_chatting_id order. */
  expectedChats(query: ExpectedChatsQuery): YoumiRawChat[];
  /** Every fan of an account, in GetFansList order. */
  fans(wechatId: number): YoumiRawFan[];
  /** POSTs an event to every registered/subscribed URL; returns the number of targets. */
  emitYoumiEvent(eventType: YoumiEventType, values: Record<string, unknown> | unknown[]): number;
  /** Records a message from a fan now (issend 0) and emits a `chat` event, as a live fan would. */
  simulateFanMessage(input: { wechatId: number; fansKey: string; content: string }): YoumiRawChat;
  /** Resolves when every event delivery in flight (including retries) has finished. */
  whenEventsDelivered(): Promise<void>;
  /** Every event delivery attempt so far. */
  deliveryAttempts(): YoumiDeliveryAttempt[];
  /** The resolved options (credentials, sizes). */
  readonly settings: Readonly<ResolvedYoumiOptions>;
}

interface V2Context {
  body: unknown;
  now: number;
  tenantId: string | undefined;
}

type V2Handler = (context: V2Context) => unknown;

interface Takeover {
  takeOverKey: string;
  staffCode: string;
  since: number;
}

interface Todo {
  todoId: number;
  wechatId: number;
  fansKey: string;
  staffCode: string;
  content: string;
  remindTime: string | null;
  createTime: string;
  status: 0 | 1;
}

interface BulkSendTask {
  taskId: string;
  wechatId: number;
  fansKeys: string[];
  content: string;
  status: 'pending' | 'finished' | 'deleted';
  successCount: number;
  failCount: number;
}

/** Creates the emulated Youmi platform (v2 + v1 API, token endpoint, callbacks). */
export function createYoumiPlatform(options: YoumiPlatformOptions): YoumiPlatform {
  return new YoumiPlatformImpl(options);
}

class YoumiPlatformImpl implements YoumiPlatform {
  readonly name = 'youmi';
  readonly settings: ResolvedYoumiOptions;
  private readonly data: YoumiDataset;
  private readonly clock: EmulatorClock;
  private readonly faults: () => YoumiFaultSettings;
  private readonly v2Tokens: AccessTokenStore;
  private readonly v1Tokens: AccessTokenStore;
  private readonly events: YoumiEventDispatcher;
  private readonly routes: Map<string, V2Handler>;
  private readonly v1Api: V1ApiContext;
  // Run-time state: chats created after start, per `${wechatId}:${fanIndex}`, in id order.
  private readonly liveChats = new Map<string, YoumiRawChat[]>();
  private readonly lastChatId = new Map<number, number>();
  private readonly staffOverrides = new Map<string, string>();
  private readonly takeovers = new Map<string, Takeover>();
  private readonly activations: Array<{ wechatId: number; fansKey: string; staffCode: string; at: number }> = [];
  private readonly todos: Todo[] = [];
  private readonly bulkSends = new Map<string, BulkSendTask>();
  private noticeCount = 0;
  private authenticatedCalls = 0;
  private sequence = 0;

  constructor(options: YoumiPlatformOptions) {
    this.settings = resolveYoumiOptions(options.seed ?? 'kefu', options.youmi);
    this.clock = options.clock;
    this.faults = options.faults ?? (() => ({}));
    registerSecret(this.settings.clientSecret);
    registerSecret(this.settings.v1AppKey);
    this.data = new YoumiDataset(this.settings, this.clock.now());
    const now = () => this.clock.now();
    this.v2Tokens = new AccessTokenStore(now);
    this.v1Tokens = new AccessTokenStore(now);
    this.events = new YoumiEventDispatcher({
      merchantId: this.settings.merchantId,
      retries: this.settings.callbackRetries,
      retryDelayMs: this.settings.callbackRetryDelayMs,
      timeoutMs: this.settings.callbackTimeoutMs,
      now,
    });
    this.routes = this.v2Routes();
    this.v1Api = {
      appId: this.settings.v1AppId,
      appKey: this.settings.v1AppKey,
      tokenLifetimeSeconds: this.settings.v1TokenLifetimeSeconds,
      tokens: this.v1Tokens,
      now,
      revokesNow: (path) => this.revokesNow(path),
      routes: new Map<string, (body: unknown) => unknown>([
        ['/v1/chatmess/getchatlist', (body) => this.v1ChatList(body)],
        ['/v1/friend/getfanslist', (body) => this.fansPage(validateBody(fansListRequestSchema, body))],
        [
          '/v1/public/setcallbackurl',
          (body) => {
            this.events.setV1Callback(validateBody(v1CallbackRequestSchema, body).url);
            return true;
          },
        ],
      ]),
    };
  }

  async handle(request: EmulatorRequest): Promise<EmulatorResponse | undefined> {
    // Paths are matched case-insensitively, as the platform's ASP.NET-style routes are.
    const path = request.url.pathname.toLowerCase().replace(/\/+$/, '');
    if (path === YOUMI_TOKEN_PATH) {
      const { clientId, clientSecret, tokenLifetimeSeconds } = this.settings;
      return answerTokenRequest(request, {
        clientId,
        clientSecret,
        lifetimeSeconds: tokenLifetimeSeconds,
        tokens: this.v2Tokens,
      });
    }
    if (path.startsWith('/v2/')) return this.v2Call(path, request);
    if (path.startsWith('/v1/')) {
      const answer = answerV1Request(path, request, this.v1Api);
      // Token endpoints get transport faults only when faults.pathPattern names them.
      return path === YOUMI_V1_TOKEN_PATH.toLowerCase() ? { ...answer, exemptFromFaults: true } : answer;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.events.close();
  }

  describe(baseUrl: string): YoumiEmulatorDescription {
    const base = baseUrl.replace(/\/+$/, '');
    return {
      baseUrl: base,
      tokenUrl: `${base}${YOUMI_TOKEN_PATH}`,
      clientId: this.settings.clientId,
      clientSecret: this.settings.clientSecret,
      tenantId: this.settings.tenantIds[0] ?? '',
      merchantId: this.settings.merchantId,
      wechatIds: [...this.settings.wechatIds],
      v1: { appId: this.settings.v1AppId, appKey: this.settings.v1AppKey },
      expectedChats: (query) => this.expectedChats(query),
      fans: (wechatId) => this.fans(wechatId),
      emitYoumiEvent: (eventType, values) => this.emitYoumiEvent(eventType, values),
      simulateFanMessage: (input) => this.simulateFanMessage(input),
      whenEventsDelivered: () => this.whenEventsDelivered(),
      deliveryAttempts: () => this.deliveryAttempts(),
    };
  }

  // ---- ground truth ------------------------------------------------------------------

  expectedChats(query: ExpectedChatsQuery): YoumiRawChat[] {
    const from = query.from?.getTime?.();
    const to = query.to?.getTime?.();
    if (!Number.isFinite(from) || !Number.isFinite(to) || (from as number) > (to as number)) {
      throw youmiEmulatorError(
        'EMULATOR_YOUMI_QUERY_INVALID',
        'expectedChats: from and to must be valid Dates with from <= to',
      );
    }
    this.requireAccount(query.wechatId);
    // Chat times are whole seconds: from <= t <= to  ⇔  ceil(from/1000) <= second <= floor(to/1000).
    const filter: ChatFilter = {
      fromSecond: Math.ceil((from as number) / 1000),
      toSecond: Math.floor((to as number) / 1000),
    };
    const indexes = query.fansKey === undefined ? this.fanIndexes() : [this.requireFan(query.wechatId, query.fansKey)];
    const chats = indexes.flatMap(
      (index) => this.fanChats(query.wechatId, index, filter, 0, Number.MAX_SAFE_INTEGER).chats,
    );
    return chats.sort((a, b) => a.ad_chatting_id - b.ad_chatting_id);
  }

  fans(wechatId: number): YoumiRawFan[] {
    this.requireAccount(wechatId);
    return this.fanIndexes().map((index) => this.currentFan(wechatId, index));
  }

  emitYoumiEvent(eventType: YoumiEventType, values: Record<string, unknown> | unknown[]): number {
    if (!youmiEventTypes.includes(eventType) || typeof values !== 'object' || values === null) {
      throw youmiEmulatorError(
        'EMULATOR_YOUMI_EVENT_INVALID',
        `emitYoumiEvent: unknown event type "${String(eventType)}" or values that are not an object/array`,
      );
    }
    return this.events.emit(eventType, values);
  }

  simulateFanMessage(input: { wechatId: number; fansKey: string; content: string }): YoumiRawChat {
    this.requireAccount(input.wechatId);
    const index = this.requireFan(input.wechatId, input.fansKey);
    const chat = this.appendChat(input.wechatId, index, { fromAccount: false, type: 1, content: input.content });
    this.events.emit('chat', chat);
    return chat;
  }

  whenEventsDelivered(): Promise<void> {
    return this.events.whenIdle();
  }

  deliveryAttempts(): YoumiDeliveryAttempt[] {
    return this.events.deliveryAttempts();
  }

  private requireAccount(wechatId: number): YoumiAccount {
    const account = this.data.account(wechatId);
    if (!account) {
      throw youmiEmulatorError(
        'EMULATOR_YOUMI_UNKNOWN_ACCOUNT',
        `wechatId ${wechatId} is not served; use one of ${this.settings.wechatIds.join(', ')}`,
      );
    }
    return account;
  }

  private requireFan(wechatId: number, fansKey: string): number {
    const index = this.data.fanIndex(wechatId, fansKey);
    if (index === undefined) {
      throw youmiEmulatorError('EMULATOR_YOUMI_UNKNOWN_FAN', `fansKey ${fansKey} is not a fan of wechatId ${wechatId}`);
    }
    return index;
  }

  private fanIndexes(): number[] {
    return Array.from({ length: this.data.fanCount }, (_, index) => index);
  }

  private currentFan(wechatId: number, index: number): YoumiRawFan {
    const fan = this.data.fan(wechatId, index);
    const override = this.staffOverrides.get(`${wechatId}:${index}`);
    return override === undefined ? fan : { ...fan, staffCode: override };
  }

  /** Generated then live chats of one fan matching the filter, in id order, paged by offset/limit. */
  private fanChats(wechatId: number, index: number, filter: ChatFilter, offset: number, limit: number) {
    const generated = this.data.generatedChats(wechatId, index, filter, offset, limit);
    const live = (this.liveChats.get(`${wechatId}:${index}`) ?? []).filter((chat) => {
      const second = parseYoumiTime(chat.ad_chatting_time) / 1000;
      return (
        (filter.fromSecond === undefined || second >= filter.fromSecond) &&
        (filter.toSecond === undefined || second <= filter.toSecond) &&
        (filter.minChattingId === undefined || chat.ad_chatting_id > filter.minChattingId)
      );
    });
    const remaining = limit - generated.chats.length;
    const liveOffset = Math.max(0, offset - generated.total);
    const chats =
      remaining > 0 ? [...generated.chats, ...live.slice(liveOffset, liveOffset + remaining)] : generated.chats;
    return { total: generated.total + live.length, chats };
  }

  /** Appends a run-time chat with an id above every earlier one of the account. */
  private appendChat(
    wechatId: number,
    index: number,
    input: {
      fromAccount: boolean;
      type: number;
      content: string;
      resvred?: Record<string, unknown> | undefined;
      staffCode?: string | null;
    },
  ): YoumiRawChat {
    const now = this.clock.now();
    const second = Math.floor(now / 1000);
    const id = Math.max((this.lastChatId.get(wechatId) ?? 0) + 1, this.data.chatIdAt(second, index));
    this.lastChatId.set(wechatId, id);
    const fan = this.currentFan(wechatId, index);
    const chat = this.data.chatRecord({
      id,
      wechatId,
      fan,
      fromAccount: input.fromAccount,
      type: input.type,
      content: input.content,
      resvred: encodeResvred(input.resvred),
      timeMs: second * 1000,
      staffCode: input.staffCode ?? null,
      messageId: serverMessageId(this.settings.seed, 'youmi-live-msg', wechatId, id),
    });
    const key = `${wechatId}:${index}`;
    const list = this.liveChats.get(key) ?? [];
    list.push(chat);
    this.liveChats.set(key, list);
    return chat;
  }

  // ---- envelopes -----------------------------------------------------------------------

  private envelope(values: unknown, errmsg: number = YOUMI_ERRMSG.ok, errdesc: string | null = null): YoumiEnvelope {
    return youmiEnvelope(this.clock.now(), values, errmsg, errdesc);
  }

  private failure(errmsg: number, errdesc: string, status = 200): EmulatorResponse {
    return { status, body: this.envelope(null, errmsg, errdesc) };
  }

  /** Applies `revokeTokenEveryCalls`: true when this authenticated call revokes the token. */
  private revokesNow(path: string): boolean {
    const faults = this.faults();
    const every = faults.revokeTokenEveryCalls;
    if (!every || every <= 0) return false;
    if (faults.pathPattern && !new RegExp(faults.pathPattern).test(path)) return false;
    this.authenticatedCalls += 1;
    return this.authenticatedCalls % every === 0;
  }

  // ---- v2 ------------------------------------------------------------------------------

  private v2Call(path: string, request: EmulatorRequest): EmulatorResponse {
    const handler = this.routes.get(path);
    if (!handler) return this.failure(YOUMI_ERRMSG.notFound, `no such API: ${request.url.pathname}`, 404);
    if (request.method !== 'POST') return this.failure(YOUMI_ERRMSG.methodNotAllowed, 'use POST', 405);
    const token = bearerToken(request.headers.authorization);
    const rejection = this.v2Tokens.check(token);
    if (rejection) return this.failure(YOUMI_ERRMSG.unauthorized, tokenRejectionText(rejection));
    const tenantId = headerValue(request.headers.tenantid);
    if (tenantId !== undefined && !this.settings.tenantIds.includes(tenantId)) {
      return this.failure(YOUMI_ERRMSG.forbiddenTenant, 'TenantId: unknown tenant (the header is for agents only)');
    }
    if (token && this.revokesNow(request.url.pathname)) {
      this.v2Tokens.revoke(token);
      return { ...this.failure(YOUMI_ERRMSG.unauthorized, tokenRejectionText('revoked')), fault: 'revoked' };
    }
    try {
      const values = handler({ body: parseJsonBody(request.body), now: this.clock.now(), tenantId });
      return { status: 200, body: this.envelope(values) };
    } catch (error) {
      if (error instanceof EnvelopeFailure) return this.failure(error.errmsg, error.errdesc);
      throw error;
    }
  }

  private v2Routes(): Map<string, V2Handler> {
    const routes: Record<string, V2Handler> = {
      '/v2/ChatMess/GetChat': ({ body }) => this.getChat(body),
      '/v2/ChatMess/doSendPublicMes': ({ body }) => this.sendMessage(body),
      '/v2/ChatMess/applyTakeOver': ({ body, now }) => this.applyTakeOver(body, now),
      '/v2/ChatMess/terminateTakeOver': ({ body }) => this.terminateTakeOver(body),
      '/v2/ChatMess/ActivationConversation': ({ body, now }) => this.activate(body, now),
      '/v2/ChatMess/sendNotice': ({ body }) => {
        const notice = validateBody(sendNoticeRequestSchema, body);
        for (const code of notice.staffCodes) this.requireStaff(code);
        this.noticeCount += 1;
        return { noticeId: this.noticeCount, receivers: notice.staffCodes.length };
      },
      '/v2/Report/GetStaffServiceStats': ({ body }) => this.staffServiceStats(body),
      '/v2/Report/GetStaffActivatedStats': ({ body }) => this.staffActivatedStats(body),
      '/v2/System/GetDepartmentList': () => this.data.departments,
      '/v2/System/GetGroupsByDepartment': ({ body }) => {
        const { departmentId } = validateBody(groupsRequestSchema, body);
        if (!this.data.departments.some((d) => d.departmentId === departmentId)) {
          throw new EnvelopeFailure(
            YOUMI_ERRMSG.unknownDepartmentOrGroup,
            `departmentId: ${departmentId} does not exist`,
          );
        }
        return this.data.groups.filter((group) => group.departmentId === departmentId);
      },
      '/v2/System/GetStaffByGroup': ({ body }) => {
        const { groupId } = validateBody(staffByGroupRequestSchema, body);
        if (!this.data.groups.some((group) => group.groupId === groupId)) {
          throw new EnvelopeFailure(YOUMI_ERRMSG.unknownDepartmentOrGroup, `groupId: ${groupId} does not exist`);
        }
        return this.data.staff.filter((staff) => staff.groupId === groupId);
      },
      '/v2/System/GetStaffList': ({ body }) => this.page(this.data.staff, validateBody(pageRequestSchema, body)),
      '/v2/Friend/GetFansList': ({ body }) => this.fansPage(validateBody(fansListRequestSchema, body)),
      '/v2/Friend/GetFansCount': ({ body }) => {
        this.accountOrFail(validateBody(fansCountRequestSchema, body).wechatId);
        return this.data.fanCount;
      },
      '/v2/Todo/AddTodo': ({ body, now }) => {
        this.addTodo(body, now);
        return true;
      },
      '/v2/Todo/AddTodoReturnId': ({ body, now }) => ({ todoId: this.addTodo(body, now).todoId }),
      '/v2/Todo/GetTodoList': ({ body }) => {
        const query = validateBody(todoListRequestSchema, body);
        return this.page(this.filterTodos(query), query);
      },
      '/v2/Todo/GetTodoCount': ({ body }) => this.filterTodos(validateBody(todoListRequestSchema, body)).length,
      '/v2/Ad/GetAdList': ({ body }) => this.page(this.data.ads, validateBody(pageRequestSchema, body)),
      '/v2/Ad/GetAdCount': () => this.data.ads.length,
      '/v2/BulkSend/SaveRpaBulkSend': ({ body, now }) => this.saveBulkSend(body, now),
      '/v2/BulkSend/DeleteRpaBulkSend': ({ body }) => {
        const { taskId } = validateBody(deleteBulkSendRequestSchema, body);
        const task = this.bulkSends.get(taskId);
        if (!task || task.status === 'deleted') {
          throw new EnvelopeFailure(YOUMI_ERRMSG.unknownTask, `taskId: ${taskId} does not exist`);
        }
        task.status = 'deleted';
        return true;
      },
      '/v2/Public/registerCallbackUrl': ({ body }) => {
        const { url, type } = validateBody(registerCallbackRequestSchema, body);
        this.events.registerCallback(type, url);
        return true;
      },
      '/v2/Public/subscribeEvent': ({ body }) => {
        const { url, appId, messageTypes } = validateBody(subscribeEventRequestSchema, body);
        this.events.subscribe(url, appId, messageTypes);
        return true;
      },
      '/v2/Public/GetMerchantToken': ({ body, tenantId }) => {
        const request = validateBody(merchantTokenRequestSchema, body);
        // Only agents (who send a TenantId) may act for a merchant.
        if (tenantId === undefined || !this.settings.tenantIds.includes(request.tenantId)) {
          throw new EnvelopeFailure(YOUMI_ERRMSG.forbiddenTenant, 'tenantId: unknown tenant or caller is not an agent');
        }
        const lifetime = this.settings.tokenLifetimeSeconds;
        return { access_token: this.v2Tokens.issue(lifetime), token_type: 'Bearer', expires_in: lifetime };
      },
    };
    return new Map(Object.entries(routes).map(([path, handler]) => [path.toLowerCase(), handler]));
  }

  private accountOrFail(wechatId: number): YoumiAccount {
    const account = this.data.account(wechatId);
    if (!account) throw new EnvelopeFailure(YOUMI_ERRMSG.unknownWechatId, `wechatId: ${wechatId} is not your account`);
    return account;
  }

  private fanOrFail(wechatId: number, fansKey: string): number {
    const index = this.data.fanIndex(wechatId, fansKey);
    if (index === undefined) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.unknownFan, `fansKey: ${fansKey} is not a fan of wechatId ${wechatId}`);
    }
    return index;
  }

  private requireStaff(staffCode: string) {
    const staff = this.data.staff.find((s) => s.staffCode === staffCode);
    if (!staff) throw new EnvelopeFailure(YOUMI_ERRMSG.unknownStaff, `staffCode: ${staffCode} does not exist`);
    return staff;
  }

  /** Pages a list: 1-based pageIndex, pageSize capped at maxPageSize. */
  private page<T>(items: readonly T[], query: { pageIndex: number; pageSize: number }): T[] {
    const size = Math.min(query.pageSize, this.settings.maxPageSize);
    const start = (query.pageIndex - 1) * size;
    return items.slice(start, start + size);
  }

  private fansPage(query: { wechatId: number; pageIndex: number; pageSize: number }): YoumiRawFan[] {
    this.accountOrFail(query.wechatId);
    const size = Math.min(query.pageSize, this.settings.maxPageSize);
    const start = Math.min((query.pageIndex - 1) * size, this.data.fanCount);
    const end = Math.min(start + size, this.data.fanCount);
    const fans: YoumiRawFan[] = [];
    for (let index = start; index < end; index++) fans.push(this.currentFan(query.wechatId, index));
    return fans;
  }

  private getChat(body: unknown): YoumiRawChat[] {
    const query = validateBody(getChatRequestSchema, body);
    const account = this.accountOrFail(query.wechatId);
    if (query.wechatKey && query.wechatKey !== account.wechatKey) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.unknownWechatId, 'wechatKey: does not match wechatId');
    }
    const index = this.data.fanIndex(query.wechatId, query.fansKey);
    // An unknown fan simply has no chats, as on the platform.
    if (index === undefined) return [];
    const pageSize = Math.min(Number(query.pageSize), this.settings.maxPageSize);
    const offset = (Number(query.pageIndex) - 1) * pageSize;
    return this.fanChats(query.wechatId, index, chatFilter(query), offset, pageSize).chats;
  }

  private v1ChatList(body: unknown): YoumiRawChat[] {
    const query = validateBody(v1ChatListRequestSchema, body);
    this.accountOrFail(query.wechatId);
    const index = this.data.fanIndex(query.wechatId, query.fansKey);
    if (index === undefined) return [];
    const pageSize = Math.min(query.pageSize, this.settings.maxPageSize);
    return this.fanChats(query.wechatId, index, chatFilter(query), (query.pageIndex - 1) * pageSize, pageSize).chats;
  }

  private sendMessage(body: unknown) {
    const message = validateBody(sendMessageRequestSchema, body);
    this.accountOrFail(message.wechatId);
    const index = this.fanOrFail(message.wechatId, message.fansKey);
    if (message.staffCode) this.requireStaff(message.staffCode);
    const chat = this.appendChat(message.wechatId, index, {
      fromAccount: true,
      type: message.messageType ?? 1,
      content: message.content,
      resvred: message.resvred,
      staffCode: message.staffCode ?? null,
    });
    this.events.emit('chat', chat);
    return {
      ad_chatting_id: chat.ad_chatting_id,
      ad_sermsgid: chat.ad_sermsgid,
      ad_chatting_time: chat.ad_chatting_time,
    };
  }

  private applyTakeOver(body: unknown, now: number) {
    const request = validateBody(applyTakeOverRequestSchema, body);
    this.accountOrFail(request.wechatId);
    const index = this.fanOrFail(request.wechatId, request.fansKey);
    const staff = this.requireStaff(request.staffCode);
    const key = `${request.wechatId}:${index}`;
    const existing = this.takeovers.get(key);
    if (existing) {
      if (existing.staffCode !== request.staffCode) {
        throw new EnvelopeFailure(
          YOUMI_ERRMSG.takeOverConflict,
          `fansKey: already taken over by ${existing.staffCode}`,
        );
      }
      return { takeOverKey: existing.takeOverKey };
    }
    const takeOverKey = `TK${hash32(this.settings.seed, key, now, ++this.sequence).toString(16)}`;
    this.takeovers.set(key, { takeOverKey, staffCode: request.staffCode, since: now });
    // The platform writes the request into the chat as a type-12001 message.
    const chat = this.appendChat(request.wechatId, index, {
      fromAccount: true,
      type: 12001,
      content: '申请接管该会话',
      resvred: { key: takeOverKey, name: staff.staffName, reason: request.reason ?? '' },
      staffCode: request.staffCode,
    });
    this.events.emit('chat', chat);
    return { takeOverKey };
  }

  private terminateTakeOver(body: unknown) {
    const request = validateBody(terminateTakeOverRequestSchema, body);
    this.accountOrFail(request.wechatId);
    const key = `${request.wechatId}:${this.fanOrFail(request.wechatId, request.fansKey)}`;
    const existing = this.takeovers.get(key);
    if (!existing || (request.takeOverKey !== undefined && request.takeOverKey !== existing.takeOverKey)) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.takeOverConflict, 'fansKey: no active takeover with this key');
    }
    this.takeovers.delete(key);
    return true;
  }

  private activate(body: unknown, now: number) {
    const request = validateBody(activationRequestSchema, body);
    this.accountOrFail(request.wechatId);
    const index = this.fanOrFail(request.wechatId, request.fansKey);
    this.requireStaff(request.staffCode);
    const before = this.currentFan(request.wechatId, index).staffCode;
    this.activations.push({ ...request, at: now });
    if (before !== request.staffCode) {
      this.staffOverrides.set(`${request.wechatId}:${index}`, request.staffCode);
      this.events.emit('fansAttributionChange', {
        wechatId: request.wechatId,
        fansKey: request.fansKey,
        oldStaffCode: before,
        newStaffCode: request.staffCode,
      });
    }
    return { activated: true, activatedTime: formatYoumiTime(now) };
  }

  private staffServiceStats(body: unknown) {
    const query = validateBody(reportRequestSchema, body);
    if (query.staffCode) this.requireStaff(query.staffCode);
    const filter: ChatFilter = { fromSecond: query.startTimestamp, toSecond: query.endTimestamp };
    const stats = new Map<string, { sent: number; received: number; fans: Set<string> }>(
      this.data.staff.map((s) => [s.staffCode, { sent: 0, received: 0, fans: new Set<string>() }]),
    );
    // Computed by scanning every chat in range: fine for emulator-sized data sets.
    for (const { wechatId } of this.data.accounts) {
      for (const index of this.fanIndexes()) {
        const owner = this.currentFan(wechatId, index).staffCode;
        for (const chat of this.fanChats(wechatId, index, filter, 0, Number.MAX_SAFE_INTEGER).chats) {
          const code = chat.ad_chatting_issend === 1 ? chat.ad_staff_code : owner;
          const entry = code ? stats.get(code) : undefined;
          if (!entry) continue;
          if (chat.ad_chatting_issend === 1) entry.sent += 1;
          else entry.received += 1;
          entry.fans.add(`${wechatId}:${chat.ad_chatting_talter}`);
        }
      }
    }
    return this.data.staff
      .filter((s) => !query.staffCode || s.staffCode === query.staffCode)
      .map((s) => {
        const entry = stats.get(s.staffCode);
        return {
          staffCode: s.staffCode,
          staffName: s.staffName,
          sentCount: entry?.sent ?? 0,
          receivedCount: entry?.received ?? 0,
          fansServed: entry?.fans.size ?? 0,
        };
      });
  }

  private staffActivatedStats(body: unknown) {
    const query = validateBody(reportRequestSchema, body);
    if (query.staffCode) this.requireStaff(query.staffCode);
    const fromMs = query.startTimestamp * 1000;
    const toMs = query.endTimestamp * 1000;
    const counts = new Map<string, number>();
    for (const activation of this.activations) {
      if (activation.at >= fromMs && activation.at <= toMs) {
        counts.set(activation.staffCode, (counts.get(activation.staffCode) ?? 0) + 1);
      }
    }
    return this.data.staff
      .filter((s) => !query.staffCode || s.staffCode === query.staffCode)
      .map((s) => ({ staffCode: s.staffCode, staffName: s.staffName, activatedCount: counts.get(s.staffCode) ?? 0 }));
  }

  private addTodo(body: unknown, now: number): Todo {
    const request = validateBody(addTodoRequestSchema, body);
    this.accountOrFail(request.wechatId);
    this.fanOrFail(request.wechatId, request.fansKey);
    this.requireStaff(request.staffCode);
    const todo: Todo = {
      todoId: 80_001 + this.todos.length,
      wechatId: request.wechatId,
      fansKey: request.fansKey,
      staffCode: request.staffCode,
      content: request.content,
      remindTime: request.remindTimestamp === undefined ? null : formatYoumiTime(request.remindTimestamp * 1000),
      createTime: formatYoumiTime(now),
      status: 0,
    };
    this.todos.push(todo);
    return todo;
  }

  private filterTodos(query: { wechatId?: number | undefined; staffCode?: string | undefined }): Todo[] {
    return this.todos.filter(
      (todo) =>
        (query.wechatId === undefined || todo.wechatId === query.wechatId) &&
        (query.staffCode === undefined || todo.staffCode === query.staffCode),
    );
  }

  private saveBulkSend(body: unknown, now: number) {
    const request = validateBody(saveBulkSendRequestSchema, body);
    this.accountOrFail(request.wechatId);
    const taskId = `RPA${hash32(this.settings.seed, 'rpa', now, ++this.sequence)
      .toString(16)
      .padStart(8, '0')}`;
    const task: BulkSendTask = {
      taskId,
      wechatId: request.wechatId,
      fansKeys: request.fansKeys,
      content: request.content,
      status: 'pending',
      successCount: 0,
      failCount: 0,
    };
    this.bulkSends.set(taskId, task);
    // Tasks due now run at once (each known fan gets the message); later ones stay pending.
    if (request.sendTimestamp === undefined || request.sendTimestamp * 1000 <= now) {
      for (const fansKey of request.fansKeys) {
        const index = this.data.fanIndex(request.wechatId, fansKey);
        if (index === undefined) {
          task.failCount += 1;
          continue;
        }
        this.appendChat(request.wechatId, index, { fromAccount: true, type: 1, content: request.content });
        task.successCount += 1;
      }
      task.status = 'finished';
      this.events.emit('rpaTaskResult', {
        taskId,
        wechatId: request.wechatId,
        status: 'finished',
        successCount: task.successCount,
        failCount: task.failCount,
        finishTime: formatYoumiTime(now),
      });
    }
    return { taskId, status: task.status };
  }
}

function chatFilter(query: {
  startTimestamp?: number | null | undefined;
  endTimestamp?: number | null | undefined;
  minChattingId?: number | null | undefined;
}): ChatFilter {
  // 0 / null mean "no bound", as the seed's example body sends 0 for unused fields.
  return {
    ...(query.startTimestamp ? { fromSecond: query.startTimestamp } : {}),
    ...(query.endTimestamp ? { toSecond: query.endTimestamp } : {}),
    ...(query.minChattingId ? { minChattingId: query.minChattingId } : {}),
  };
}
