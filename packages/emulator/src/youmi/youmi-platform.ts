import { registerSecret } from '@kefu/core/redaction';
import type { EmulatedPlatform, EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { hash32, unitFloat } from '../seeded-random.js';
import { AccessTokenStore, bearerToken } from './youmi-auth.js';
import { YoumiChatStore } from './youmi-chat-store.js';
import { answerYoumiControl } from './youmi-control.js';
import { type ChatCore, type YoumiAccount, YoumiDataset, type YoumiStaff } from './youmi-data.js';
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
import {
  invalidYoumiOptions,
  type ResolvedYoumiOptions,
  type ResolvedYoumiReadings,
  resolveYoumiOptions,
  type YoumiEmulatorOptions,
  type YoumiReadings,
  youmiReadingsSchema,
} from './youmi-options.js';
import {
  activationReportRequestSchema,
  activationRequestSchema,
  addTodoRequestSchema,
  adListRequestSchema,
  applyTakeOverRequestSchema,
  departGroupsRequestSchema,
  fansCountRequestSchema,
  fansListRequestSchema,
  getChatRequestSchema,
  registerCallbackRequestSchema,
  saveBulkSendRequestSchema,
  sendMessageRequestSchema,
  staffCustomerReportRequestSchema,
  staffListRequestSchema,
  subscribeEventRequestSchema,
  todoListRequestSchema,
  v1AddFriendRequestSchema,
  type YoumiEventType,
  type YoumiRawChat,
  type YoumiRawFan,
  youmiEventTypes,
} from './youmi-schemas.js';
import { formatYoumiTime, parseYoumiTime } from './youmi-time.js';
import { answerTokenRequest, YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
import { answerV1Request, type V1ApiContext, type V1Route, YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';

/** Fault settings the Youmi platform honours itself (the server applies transport faults). */
export interface YoumiFaultSettings {
  /** The bearer / v1 token is revoked every N authenticated calls (that call is refused as token-invalid). */
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

/** What tests need to talk to the emulated Youmi platform (`RunningEmulator['youmi']`). */
export interface YoumiEmulatorDescription {
  /** v2 API base (paths `/v2/…`). */
  baseUrl: string;
  /** The v2 token call (获取商户TOKEN), `…/connect/token`. */
  tokenUrl: string;
  /** The fixed `scope` of the token call. */
  scope: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  merchantId: string;
  wechatIds: number[];
  /** v1 credentials, its token call and the base of its data calls (`…/v1`). */
  v1: { appId: string; appKey: string; tokenUrl: string; baseUrl: string };
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

/** The emulated Youmi platform: an {@link EmulatedPlatform} plus test helpers. */
export interface YoumiPlatform
  extends EmulatedPlatform,
    Omit<
      YoumiEmulatorDescription,
      'baseUrl' | 'tokenUrl' | 'scope' | 'clientId' | 'clientSecret' | 'tenantId' | 'merchantId' | 'wechatIds' | 'v1'
    > {
  /** Connection details, ground truth and event helpers for a server at `baseUrl`. */
  describe(baseUrl: string): YoumiEmulatorDescription;
  /** The resolved options (credentials, sizes). */
  readonly settings: Readonly<ResolvedYoumiOptions>;
}

interface V2Context {
  body: unknown;
  now: number;
  tenantId: string | undefined;
}

interface V2Route {
  method: 'GET' | 'POST';
  handle(context: V2Context): unknown;
}

interface Todo {
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

/** Creates the emulated Youmi platform (v2 + v1 API, token call, callbacks, control endpoints). */
export function createYoumiPlatform(options: YoumiPlatformOptions): YoumiPlatform {
  return new YoumiPlatformImpl(options);
}

/** Turns a Date, ms number or ISO text into ms since epoch; NaN when it is none of them. */
function instant(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.NaN;
}

class YoumiPlatformImpl implements YoumiPlatform {
  readonly name = 'youmi';
  readonly settings: ResolvedYoumiOptions;
  private current: ResolvedYoumiReadings;
  private readonly data: YoumiDataset;
  private readonly store: YoumiChatStore;
  private readonly clock: EmulatorClock;
  private readonly faults: () => YoumiFaultSettings;
  private readonly v2Tokens: AccessTokenStore;
  private readonly v1Tokens: AccessTokenStore;
  private readonly events: YoumiEventDispatcher;
  private readonly routes: Map<string, V2Route>;
  private readonly v1Api: V1ApiContext;
  private readonly staffOverrides = new Map<string, string>();
  private readonly activations: Array<{ staffCode: string; at: number }> = [];
  private readonly todos: Todo[] = [];
  private readonly bulkSends: string[] = [];
  private readonly v1Friends: Array<{ mobile: string; greeting: string; pcKid: string; wechatId: number }> = [];
  private authenticatedCalls = 0;
  private sequence = 0;

  constructor(options: YoumiPlatformOptions) {
    this.settings = resolveYoumiOptions(options.seed ?? 'kefu', options.youmi);
    this.current = { ...this.settings.readings };
    this.clock = options.clock;
    this.faults = options.faults ?? (() => ({}));
    registerSecret(this.settings.clientSecret);
    registerSecret(this.settings.v1AppKey);
    const readings = () => this.current;
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
      timeFormat: () => this.current.timeFormat,
    });
    this.routes = this.v2Routes();
    this.v1Api = {
      appId: this.settings.v1AppId,
      appKey: this.settings.v1AppKey,
      tokenLifetimeSeconds: this.settings.v1TokenLifetimeSeconds,
      tokens: this.v1Tokens,
      now,
      readings,
      revokesNow: (path) => this.revokesNow(path),
      routes: this.v1Routes(),
    };
  }

  async handle(request: EmulatorRequest): Promise<EmulatorResponse | undefined> {
    // Paths are matched case-insensitively, as the platform's ASP.NET routes are.
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
    if (path.startsWith('/v1/') || path === YOUMI_V1_TOKEN_PATH.toLowerCase()) {
      return answerV1Request(path, request, this.v1Api);
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
      scope: 'Ls.Qkl.PublicApi',
      clientId: this.settings.clientId,
      clientSecret: this.settings.clientSecret,
      tenantId: this.settings.tenantIds[0] ?? '',
      merchantId: this.settings.merchantId,
      wechatIds: [...this.settings.wechatIds],
      v1: {
        appId: this.settings.v1AppId,
        appKey: this.settings.v1AppKey,
        tokenUrl: `${base}${YOUMI_V1_TOKEN_PATH}`,
        baseUrl: `${base}/v1`,
      },
      expectedChats: (query) => this.expectedChats(query),
      fans: (wechatId) => this.fans(wechatId),
      addLateUpload: (input) => this.addLateUpload(input),
      revokeTokens: () => this.revokeTokens(),
      readings: () => this.readings(),
      setReadings: (readings) => this.setReadings(readings),
      setV1CallbackUrl: (url) => this.setV1CallbackUrl(url),
      emitYoumiEvent: (eventType, values) => this.emitYoumiEvent(eventType, values),
      simulateFanMessage: (input) => this.simulateFanMessage(input),
      whenEventsDelivered: () => this.whenEventsDelivered(),
      deliveryAttempts: () => this.deliveryAttempts(),
    };
  }

  // ---- ground truth and test helpers ---------------------------------------------------

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
    const indexes = query.fansKey === undefined ? this.fanIndexes() : [this.requireFan(query.wechatId, query.fansKey)];
    return indexes
      .flatMap((index) => this.store.truth(query.wechatId, index, from as number, to as number))
      .sort((a, b) => a.id - b.id)
      .map((chat) => this.render(chat));
  }

  fans(wechatId: number): YoumiRawFan[] {
    this.requireAccount(wechatId);
    return this.fanIndexes().map((index) => this.currentFan(wechatId, index));
  }

  addLateUpload(input: LateUploadInput): void {
    this.requireAccount(input.wechatId);
    const fanIndex = this.requireFan(input.wechatId, input.fansKey);
    const timeMs = instant(input.time);
    const arriveAt = instant(input.arriveAt);
    if (!Number.isFinite(timeMs) || !Number.isFinite(arriveAt)) {
      throw youmiEmulatorError('EMULATOR_YOUMI_QUERY_INVALID', 'addLateUpload: time and arriveAt must be valid times');
    }
    this.store.scheduleLateUpload({
      wechatId: input.wechatId,
      fanIndex,
      timeMs,
      arriveAt,
      content: input.content ?? '补传的消息',
      fromAccount: input.fromAccount ?? false,
    });
  }

  revokeTokens(): number {
    return this.v2Tokens.revokeAll() + this.v1Tokens.revokeAll();
  }

  readings(): ResolvedYoumiReadings {
    return { ...this.current };
  }

  setReadings(readings: Omit<YoumiReadings, 'chatIds'>): ResolvedYoumiReadings {
    const parsed = youmiReadingsSchema.omit({ chatIds: true }).strict().safeParse(readings);
    if (!parsed.success) invalidYoumiOptions(parsed.error.issues);
    this.current = {
      ...this.current,
      ...Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)),
    };
    return this.readings();
  }

  setV1CallbackUrl(url: string | undefined): void {
    this.events.setV1Callback(url);
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
    const chat = this.render(
      this.store.append(input.wechatId, index, { fromAccount: false, type: 1, content: input.content }),
    );
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

  private render(chat: ChatCore): YoumiRawChat {
    return this.data.render(chat, this.currentFan(chat.wechatId, chat.fanIndex));
  }

  // ---- control endpoints (the endpoints are in youmi-control.ts) -------------------------

  /** Answers `/__emulator/youmi/<path>` (see youmi-control.ts). */
  async control(request: EmulatorRequest, path: string): Promise<EmulatorResponse | undefined> {
    return answerYoumiControl(this, request, path);
  }

  // ---- envelopes -----------------------------------------------------------------------

  private envelope(values: unknown, errmsg: number = YOUMI_ERRMSG.ok, errdesc: string | null = null) {
    return youmiEnvelope(this.clock.now(), this.current.timeFormat, values, errmsg, errdesc, `req-${++this.sequence}`);
  }

  private failure(errmsg: number, errdesc: string): EmulatorResponse {
    return { status: 200, body: this.envelope(null, errmsg, errdesc) };
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

  /** A refused bearer token, as the `v2TokenRejection` reading says. */
  private tokenRefused(text: string, fault?: string): EmulatorResponse {
    const response: EmulatorResponse =
      this.current.v2TokenRejection === 'http401'
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: Buffer.alloc(0) }
        : this.failure(YOUMI_ERRMSG.tokenInvalid, text);
    return fault ? { ...response, fault } : response;
  }

  // ---- v2 ------------------------------------------------------------------------------

  private v2Call(path: string, request: EmulatorRequest): EmulatorResponse {
    const route = this.routes.get(path);
    // ASP.NET answers an unknown route or a wrong method with a bare status.
    if (!route) return { status: 404, body: Buffer.alloc(0) };
    if (request.method !== route.method) return { status: 405, body: Buffer.alloc(0) };
    const token = bearerToken(request.headers.authorization);
    const rejection = this.v2Tokens.check(token);
    if (rejection) return this.tokenRefused(tokenRejectionText(rejection));
    const tenantId = headerValue(request.headers.tenantid);
    if (tenantId !== undefined && tenantId !== '' && !this.settings.tenantIds.includes(tenantId)) {
      return this.failure(YOUMI_ERRMSG.badParameters, 'TenantId: unknown tenant (the header is for agents only)');
    }
    if (token && this.revokesNow(request.url.pathname)) {
      this.v2Tokens.revoke(token);
      return this.tokenRefused(tokenRejectionText('revoked'), 'revoked');
    }
    try {
      const body = route.method === 'POST' ? parseJsonBody(request.body) : {};
      return { status: 200, body: this.envelope(route.handle({ body, now: this.clock.now(), tenantId })) };
    } catch (error) {
      if (error instanceof EnvelopeFailure) return this.failure(error.errmsg, error.errdesc);
      throw error;
    }
  }

  private v2Routes(): Map<string, V2Route> {
    const post = (handle: V2Route['handle']): V2Route => ({ method: 'POST', handle });
    const routes: Record<string, V2Route> = {
      '/v2/ChatMess/GetChat': post(({ body }) => this.getChat(body)),
      '/v2/ChatMess/doSendPublicMes': post(({ body }) => this.sendMessage(body)),
      '/v2/ChatMess/applyTakeOver': post(({ body }) => this.applyTakeOver(body)),
      '/v2/ChatMess/ActivationConversation': post(({ body, now }) => this.activate(body, now)),
      '/v2/Report/GetDataByStaffCustomer': post(({ body }) => this.staffCustomerReport(body)),
      '/v2/Report/GetActivationListByStaff': post(({ body }) => this.activationReport(body)),
      '/v2/System/GetDepartList': {
        method: 'GET',
        handle: () => this.data.departments.map((d) => ({ departid: d.departmentId, departname: d.departmentName })),
      },
      '/v2/System/GetDepartGroupList': post(({ body }) => {
        const { departId } = validateBody(departGroupsRequestSchema, body);
        return this.data.groups
          .filter((group) => departId === -1 || group.departmentId === departId)
          .map((group) => ({
            departgroupid: group.groupId,
            departgroupname: group.groupName,
            departid: group.departmentId,
          }));
      }),
      '/v2/System/GetStaffList': post(({ body }) => {
        const query = validateBody(staffListRequestSchema, body);
        return this.data.staff
          .filter(
            (staff) =>
              (query.departId === -1 || staff.departmentId === query.departId) &&
              (query.departGroupId === -1 || staff.groupId === query.departGroupId) &&
              (query.staffState === 1 || staff.status === 1),
          )
          .map((staff) => this.staffRow(staff));
      }),
      '/v2/Friend/GetFansList': post(({ body }) => this.fansPage(body)),
      '/v2/Friend/GetFansCount': post(({ body }) => {
        const query = validateBody(fansCountRequestSchema, body);
        const accounts = query.wechatId === undefined ? this.data.accounts : [this.accountOrFail(query.wechatId)];
        return accounts.reduce(
          (sum, account) =>
            sum + this.matchingFans(account.wechatId, query.fansKe ?? undefined, query.fansName ?? undefined).length,
          0,
        );
      }),
      '/v2/Todo/AddRecord': post(({ body, now }) => {
        this.addTodo(body, now);
        return true;
      }),
      '/v2/Todo/AddRecordNew': post(({ body, now }) => this.addTodo(body, now).id),
      '/v2/Todo/GetChargeDaffairesList': post(({ body }) => {
        const query = validateBody(todoListRequestSchema, body);
        return this.pageOf(this.filterTodos(query), query.pageIndex, query.pageSize).map((todo) => this.todoRow(todo));
      }),
      '/v2/Todo/GetChargeDaffairesCount': post(
        ({ body }) => this.filterTodos(validateBody(todoListRequestSchema, body)).length,
      ),
      '/v2/AdManage/GetAdList': post(({ body }) => {
        const query = validateBody(adListRequestSchema, body);
        if (query.pageIndex === undefined || query.pageSize === undefined) {
          throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'pageIndex, pageSize: are required');
        }
        return this.pageOf(this.filterAds(query), query.pageIndex, query.pageSize);
      }),
      '/v2/AdManage/GetAdCount': post(({ body }) => this.filterAds(validateBody(adListRequestSchema, body)).length),
      '/v2/BulkSend/SaveBulkSendTask': post(({ body, now }) => {
        validateBody(saveBulkSendRequestSchema, body);
        const taskId = `RPA${hash32(this.settings.seed, 'rpa', now, this.bulkSends.length).toString(16).padStart(8, '0')}`;
        this.bulkSends.push(taskId);
        this.events.emit('rpaTaskResult', {
          taskId,
          state: 1,
          finishTime: formatYoumiTime(now, this.current.timeFormat),
        });
        return taskId;
      }),
      '/v2/Public/registerCallbackUrl': post(({ body }) => {
        const { url, type } = validateBody(registerCallbackRequestSchema, body);
        this.events.registerCallback(type ?? 100, url);
        return true;
      }),
      '/v2/Public/subscribeEvent': post(({ body }) => {
        const { url, appId, messageTypes } = validateBody(subscribeEventRequestSchema, body);
        this.events.subscribe(url, appId, messageTypes);
        return true;
      }),
    };
    return new Map(Object.entries(routes).map(([path, route]) => [path.toLowerCase(), route]));
  }

  private accountOrFail(wechatId: number): YoumiAccount {
    const account = this.data.account(wechatId);
    if (!account) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, `wechatId: ${wechatId} does not exist`);
    return account;
  }

  /** The account and fan index of a fan key, searched in `wechatId`'s account or all of them. */
  private fanOrFail(fansKey: string, wechatId?: number): { account: YoumiAccount; index: number } {
    const accounts = wechatId === undefined ? this.data.accounts : [this.accountOrFail(wechatId)];
    for (const account of accounts) {
      const index = this.data.fanIndex(account.wechatId, fansKey);
      if (index !== undefined) return { account, index };
    }
    throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchFriend, `${fansKey}: no such friend`);
  }

  private staffOrFail(staffCode: string): YoumiStaff {
    const staff = this.data.staff.find((s) => s.staffCode === staffCode);
    if (!staff) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchStaff, `staff ${staffCode} does not exist`);
    return staff;
  }

  /** Pages a list: 1-based pageIndex, pageSize capped at maxPageSize. */
  private pageOf<T>(items: readonly T[], pageIndex: number, pageSize: number): T[] {
    if (pageIndex < 1 || pageSize < 1)
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'pageIndex, pageSize: must be >= 1');
    const size = Math.min(pageSize, this.settings.maxPageSize);
    const start = (pageIndex - 1) * size;
    return items.slice(start, start + size);
  }

  private staffRow(staff: YoumiStaff) {
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

  private matchingFans(wechatId: number, fansKe: string | undefined, fansName: string | undefined): number[] {
    return this.fanIndexes().filter((index) => {
      const fan = this.currentFan(wechatId, index);
      return (!fansKe || fan.fansKey === fansKe) && (!fansName || fan.nickname.includes(fansName));
    });
  }

  /** One GetFansList page in the `fansListShape` reading (the response was not seen, §2.4). */
  private fansPage(body: unknown): Array<Record<string, unknown>> {
    const query = validateBody(fansListRequestSchema, body);
    const account = this.accountOrFail(query.wechatId);
    const indexes = this.pageOf(
      this.matchingFans(account.wechatId, query.fansKe ?? undefined, query.fansName ?? undefined),
      query.pageIndex,
      query.pageSize,
    );
    return indexes.map((index) => {
      const fan = this.currentFan(account.wechatId, index);
      if (this.current.fansListShape === 'camel') {
        return {
          fansKey: fan.fansKey,
          fansName: fan.nickname,
          avatar: fan.avatar,
          wechatId: fan.wechatId,
          wechatKey: fan.wechatKey,
          remark: fan.remark,
          staffCode: fan.staffCode,
          addTime: fan.addTime,
        };
      }
      return {
        ad_relation_id: account.wechatId * 1_000_000 + index + 1,
        ad_wechat_id: account.wechatId,
        ad_relation_talter: fan.fansKey,
        ad_relation_nick: fan.nickname,
        ad_relation_remark: fan.remark,
        ad_relation_photo: fan.avatar,
        ad_relation_scene: [3, 15, 17, 30][index % 4],
        ad_relation_addtime: fan.addTime,
        ad_relation_state: 0,
        ad_staff_code: fan.staffCode,
      };
    });
  }

  private getChat(body: unknown): YoumiRawChat[] {
    const query = validateBody(getChatRequestSchema, body);
    const account = this.accountOrFail(query.wechatId);
    if (query.wechatKey && query.wechatKey !== account.wechatKey) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'wechatKey: does not match wechatId');
    }
    const index = this.data.fanIndex(query.wechatId, query.fansKey);
    // An unknown fan simply has no chats: an empty page.
    if (index === undefined) return [];
    const pageSize = Math.min(Number(query.pageSize), this.settings.maxPageSize);
    const offset = (Number(query.pageIndex) - 1) * pageSize;
    return this.store.page(query.wechatId, index, query, offset, pageSize).map((chat) => this.render(chat));
  }

  /** doSendPublicMes (§2.1): text, image and video were the documented examples. */
  private sendMessage(body: unknown): true {
    const message = validateBody(sendMessageRequestSchema, body);
    const { account, index } = this.fanOrFail(message.ToUserName, message.WechatId);
    let type: number;
    let content: string;
    let resvred: Record<string, unknown> | undefined;
    switch (message.MsgType) {
      case 'text':
        if (!message.Text) throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'Text: is required for MsgType text');
        type = 1;
        content = message.Text;
        break;
      case 'image':
      case 'video':
        if (!message.Url)
          throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, `Url: is required for MsgType ${message.MsgType}`);
        type = message.MsgType === 'image' ? 3 : 43;
        content = `${message.MsgType === 'image' ? 'imgs' : 'video'}[${message.Url}]`;
        resvred = { url: message.Url, format: message.Format ?? '', description: message.Description ?? '' };
        break;
      default:
        throw new EnvelopeFailure(
          YOUMI_ERRMSG.badParameters,
          `MsgType: ${message.MsgType} is not one the emulator knows (the docs show text, image and video)`,
        );
    }
    const chat = this.store.append(account.wechatId, index, { fromAccount: true, type, content, resvred });
    this.events.emit('chat', this.render(chat));
    return true;
  }

  /** applyTakeOver (§2.1): writes the 12001 takeover message into the fan's chat. */
  private applyTakeOver(body: unknown): true {
    const request = validateBody(applyTakeOverRequestSchema, body);
    if (!request.friend_key) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchFriend, 'friend_key: no such friend');
    const wechatId = request.wechat_key
      ? this.data.accounts.find((account) => account.wechatKey === request.wechat_key)?.wechatId
      : undefined;
    if (request.wechat_key && wechatId === undefined) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, 'wechat_key: no such operating account');
    }
    const { account, index } = this.fanOrFail(request.friend_key, wechatId);
    const chat = this.store.append(account.wechatId, index, {
      fromAccount: true,
      type: 12001,
      content: '申请接管该会话',
      resvred: {
        key: request.apply_key ?? `TK${hash32(this.settings.seed, 'takeover', ++this.sequence).toString(16)}`,
        name: request.apply_name ?? '',
        reason: request.apply_reason ?? '',
      },
    });
    this.events.emit('chat', this.render(chat));
    return true;
  }

  /** ActivationConversation (§2.1): without enforceAttribution only the staff member's own fans. */
  private activate(body: unknown, now: number): true {
    const request = validateBody(activationRequestSchema, body);
    let account: YoumiAccount | undefined;
    if (request.ad_wechat_id) account = this.accountOrFail(request.ad_wechat_id);
    else if (request.ad_original_nober) {
      account = this.data.accounts.find((candidate) => candidate.wechatNumber === request.ad_original_nober);
      if (!account) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, 'ad_original_nober: no such account');
    } else {
      throw new EnvelopeFailure(
        YOUMI_ERRMSG.accountIdMissing,
        'ad_original_nober, ad_wechat_id: may not both be empty',
      );
    }
    if (!request.ad_friend_wenober)
      throw new EnvelopeFailure(YOUMI_ERRMSG.friendIdMissing, 'ad_friend_wenober: is required');
    const { index } = this.fanOrFail(request.ad_friend_wenober, account.wechatId);
    if ((request.activationType === 1 || request.activationType === 2) && !request.content) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'content: is required when activationType is 1 or 2');
    }
    const before = this.currentFan(account.wechatId, index).staffCode;
    const staffCode = request.staff_code ?? before;
    if (!staffCode) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchStaff, 'staff_code: the fan has no owner; name one');
    this.staffOrFail(staffCode);
    if (staffCode !== before) {
      if (request.enforceAttribution !== 1) {
        throw new EnvelopeFailure(
          YOUMI_ERRMSG.operationFailed,
          `staff_code: ${staffCode} does not own this fan (set enforceAttribution 1 to take it)`,
        );
      }
      this.staffOverrides.set(`${account.wechatId}:${index}`, staffCode);
      this.events.emit('fansAttributionChange', {
        wechatId: account.wechatId,
        fansKey: this.data.fansKey(account.wechatId, index),
        oldStaffCode: before,
        newStaffCode: staffCode,
      });
    }
    this.activations.push({ staffCode, at: now });
    return true;
  }

  /** GetDataByStaffCustomer (§2.2; the response was not seen: one row per staff, group or department). */
  private staffCustomerReport(body: unknown) {
    const query = validateBody(staffCustomerReportRequestSchema, body);
    const from = query.startDate ? parseYoumiTime(query.startDate) : Number.MIN_SAFE_INTEGER;
    const to = query.endDate ? parseYoumiTime(query.endDate) : Number.MAX_SAFE_INTEGER;
    if (Number.isNaN(from) || Number.isNaN(to)) {
      throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'startDate, endDate: must be yyyy-MM-dd HH:mm:ss');
    }
    const perStaff = new Map<string, { sent: number; received: number; fans: Set<string> }>();
    for (const { wechatId } of this.data.accounts) {
      for (const index of this.fanIndexes()) {
        const owner = this.currentFan(wechatId, index).staffCode;
        for (const chat of this.store.truth(wechatId, index, from, to)) {
          const code = chat.fromAccount ? chat.staffCode : owner;
          if (!code) continue;
          const entry = perStaff.get(code) ?? { sent: 0, received: 0, fans: new Set<string>() };
          if (chat.fromAccount) entry.sent += 1;
          else entry.received += 1;
          entry.fans.add(`${wechatId}:${index}`);
          perStaff.set(code, entry);
        }
      }
    }
    const staff = this.data.staff.filter(
      (s) =>
        (query.staffState || s.status === 1) &&
        (!query.staffCode || s.staffCode === query.staffCode) &&
        (query.departId === undefined || query.departId === -1 || s.departmentId === query.departId) &&
        (query.departGroupId === undefined || query.departGroupId === -1 || s.groupId === query.departGroupId),
    );
    const keyOf = (s: YoumiStaff) =>
      query.show === 1 ? `d${s.departmentId}` : query.show === 2 ? `g${s.groupId}` : s.staffCode;
    const rows = new Map<
      string,
      Record<string, unknown> & { customerCount: number; sendCount: number; receiveCount: number }
    >();
    for (const s of staff) {
      const row = this.staffRow(s);
      const key = keyOf(s);
      const entry = perStaff.get(s.staffCode);
      const existing =
        rows.get(key) ??
        (query.show === 3
          ? {
              ad_staff_code: row.ad_staff_code,
              ad_staff_name: row.ad_staff_name,
              depart_name: row.depart_name,
              depart_group_name: row.depart_group_name,
              customerCount: 0,
              sendCount: 0,
              receiveCount: 0,
            }
          : query.show === 2
            ? {
                depart_name: row.depart_name,
                depart_group_name: row.depart_group_name,
                customerCount: 0,
                sendCount: 0,
                receiveCount: 0,
              }
            : { depart_name: row.depart_name, customerCount: 0, sendCount: 0, receiveCount: 0 });
      existing.customerCount += entry?.fans.size ?? 0;
      existing.sendCount += entry?.sent ?? 0;
      existing.receiveCount += entry?.received ?? 0;
      rows.set(key, existing);
    }
    const orderKey = query.orderKey ?? 'ad_staff_name';
    const sorted = [...rows.values()].sort((a, b) =>
      String(a[orderKey] ?? '').localeCompare(String(b[orderKey] ?? '')),
    );
    if (query.orderType === 'desc') sorted.reverse();
    return query.pageIndex !== undefined && query.pageSize !== undefined
      ? this.pageOf(sorted, query.pageIndex, query.pageSize)
      : sorted;
  }

  /** GetActivationListByStaff (§2.2): activations of the day starting at `time` (the response was not seen). */
  private activationReport(body: unknown) {
    const query = validateBody(activationReportRequestSchema, body);
    const from = query.time * 1000;
    const to = from + 86_400_000;
    const department = Number(query.ad_departid);
    const group = Number(query.ad_departgroupid ?? -1);
    return this.data.staff
      .filter(
        (s) =>
          (!query.ad_staff_code || s.staffCode === query.ad_staff_code) &&
          (department === -1 || s.departmentId === department) &&
          (group === -1 || s.groupId === group),
      )
      .map((s) => ({
        ad_staff_code: s.staffCode,
        ad_staff_name: s.staffName,
        activationCount: this.activations.filter((a) => a.staffCode === s.staffCode && a.at >= from && a.at < to)
          .length,
      }));
  }

  private addTodo(body: unknown, now: number): Todo {
    const request = validateBody(addTodoRequestSchema, body);
    if (request.Weixin) this.fanOrFail(request.Weixin);
    const staffCode = request.SffId === undefined || request.SffId === null ? null : String(request.SffId);
    if (staffCode) this.staffOrFail(staffCode);
    const todo: Todo = {
      id: 80_001 + this.todos.length,
      weixin: request.Weixin ?? null,
      staffCode,
      remindTitle: request.RemindTitle ?? '',
      followupsiTuation: request.FollowupsiTuation ?? '',
      remindTime: request.RemindTime ?? null,
      recipients: request.Recipient ?? [],
      createdAt: now,
      usersate: 0,
    };
    this.todos.push(todo);
    return todo;
  }

  private filterTodos(query: {
    startTimestamp?: number | null;
    endTimestamp?: number | null;
    createStaff?: string | null;
    usersate: number;
  }): Todo[] {
    return this.todos.filter(
      (todo) =>
        (!query.startTimestamp || todo.createdAt >= query.startTimestamp * 1000) &&
        (!query.endTimestamp || todo.createdAt <= query.endTimestamp * 1000) &&
        (!query.createStaff || todo.staffCode === query.createStaff) &&
        (query.usersate === -1 || todo.usersate === query.usersate),
    );
  }

  private todoRow(todo: Todo) {
    return {
      chargeDaffairesId: todo.id,
      weixin: todo.weixin,
      createStaff: todo.staffCode,
      remindTitle: todo.remindTitle,
      followupsiTuation: todo.followupsiTuation,
      remindTime: todo.remindTime,
      recipient: todo.recipients,
      usersate: todo.usersate,
      createTime: formatYoumiTime(todo.createdAt, this.current.timeFormat),
    };
  }

  private filterAds(query: { name: string; code?: string | null | undefined; state: number; buildType: number }) {
    return this.data.ads
      .map((ad, index) => ({
        code: `AD${ad.adId}`,
        name: ad.title,
        costs: Math.round(unitFloat(this.settings.seed, 'ad-costs', ad.adId) * 100_000) / 100,
        state: ad.status,
        buildType: index % 3 === 0 ? 1 : 0,
        url: ad.url,
        createTime: ad.createTime,
      }))
      .filter(
        (ad) =>
          (!query.name || ad.name.includes(query.name)) &&
          (!query.code || ad.code === query.code) &&
          (query.state === -1 || ad.state === query.state) &&
          (query.buildType === -1 || ad.buildType === query.buildType),
      );
  }

  // ---- v1 ------------------------------------------------------------------------------

  private v1Routes(): Map<string, V1Route> {
    const routes: Record<string, V1Route> = {
      // 运营号配置 (§3): the operating accounts, optionally one kind (0 personal, 3 WeCom).
      '/v1/WeCaht': {
        method: 'GET',
        handle: (query) => {
          const kind = query.get('ad_wechat_lei');
          if (kind !== null && kind !== '' && kind !== '0') return [];
          return this.data.accounts.map((account) => ({
            ad_wechat_id: account.wechatId,
            ad_wechat_nober: account.wechatNumber,
            ad_wechat_nick: account.nickname,
            ad_wechat_qrcode: `https://res.youmi.example/qr/${account.wechatKey}.png`,
            ad_wechat_addtime: formatYoumiTime(this.data.windowStartSecond * 1000, this.current.timeFormat),
            ad_original_nober: account.wechatNumber,
            ad_wechat_usercode: account.wechatKey,
            ad_wechat_lei: 0,
          }));
        },
      },
      // 读取好友 (§3): every parameter optional; without any, the first 20 friends.
      '/v1/friend': {
        method: 'GET',
        handle: (query) => {
          const integer = (name: string, fallback: number) => {
            const value = query.get(name);
            if (value === null || value === '') return fallback;
            if (!/^-?\d+$/.test(value))
              throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, `${name}: must be an integer`);
            return Number(value);
          };
          const wechatId = integer('Wechat_id', 0);
          const accounts = wechatId === 0 ? this.data.accounts : [this.accountOrFail(wechatId)];
          const friends = accounts.flatMap((account) =>
            this.fanIndexes().map((index) => {
              const fan = this.currentFan(account.wechatId, index);
              return {
                ad_friend_id: account.wechatId * 1_000_000 + index + 1,
                ad_friend_uwenober: fan.fansKey,
                ad_friend_wenober: fan.fansKey,
                username: fan.nickname,
                avatar: fan.avatar,
                ad_wechat_id: account.wechatId,
                ad_staff_code: fan.staffCode,
              };
            }),
          );
          return this.pageOf(friends, integer('Page', 1), integer('PageSize', 20));
        },
      },
      // 添加好友 (§3): queued (no sffcode) or assigned; answers values: true.
      '/v1/friend/Add_Friend': {
        method: 'POST',
        handle: (_query, body) => {
          const request = validateBody(v1AddFriendRequestSchema, body);
          const account = this.accountOrFail(Number(request.ReceiVerId));
          if (request.sffcode) this.staffOrFail(request.sffcode);
          this.v1Friends.push({
            mobile: request.Wechat_Moble,
            greeting: request.GreeTing,
            pcKid: request.PcKid,
            wechatId: account.wechatId,
          });
          return true;
        },
      },
    };
    return new Map(Object.entries(routes).map(([path, route]) => [path.toLowerCase(), route]));
  }
}
