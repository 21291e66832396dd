import {
  defaultRetryPolicy,
  formatZodIssue,
  type HttpClient,
  isKefuError,
  type KefuError,
  type PlatformCallOptions,
  type ProviderRetry,
  type RetryPolicy,
  retryWithBackoff,
} from '@kefu/core';
import { z } from 'zod';
import { beijingMidnightSeconds, formatBeijingTime } from './beijing-time.js';
import { youmiError } from './errors.js';
import type { YoumiAuthenticator } from './youmi-auth.js';
import {
  readEnvelopeText,
  TOKEN_INVALID_CODES,
  TRANSIENT_CODES,
  YOUMI_CODE_MEANINGS,
  type YoumiEnvelope,
} from './youmi-envelope.js';
import {
  YoumiChatListSchema,
  YoumiCountSchema,
  YoumiDepartmentSchema,
  YoumiIdSchema,
  YoumiRawChatListSchema,
  YoumiRowListSchema,
} from './youmi-schemas.js';

/**
 * The typed Youmi clients: {@link YoumiClient} has one method per v2 call of
 * platforms/youmi-api.md §2, {@link YoumiV1Client} one per v1 call of §3. Both send through
 * {@link YoumiCaller}, the only place that authenticates, reads the envelope (`succeed`
 * decides), refreshes a refused token, and turns platform codes into typed errors.
 */

/** Paths of the v2 calls (§2), relative to the v2 base URL, verbatim. */
export const YOUMI_PATHS = {
  getChat: '/v2/ChatMess/GetChat',
  sendMessage: '/v2/ChatMess/doSendPublicMes',
  applyTakeOver: '/v2/ChatMess/applyTakeOver',
  activateConversation: '/v2/ChatMess/ActivationConversation',
  staffCustomerReport: '/v2/Report/GetDataByStaffCustomer',
  activationReport: '/v2/Report/GetActivationListByStaff',
  departments: '/v2/System/GetDepartList',
  departmentGroups: '/v2/System/GetDepartGroupList',
  staffList: '/v2/System/GetStaffList',
  fansList: '/v2/Friend/GetFansList',
  fansCount: '/v2/Friend/GetFansCount',
  addTodo: '/v2/Todo/AddRecord',
  addTodoReturningId: '/v2/Todo/AddRecordNew',
  todoList: '/v2/Todo/GetChargeDaffairesList',
  todoCount: '/v2/Todo/GetChargeDaffairesCount',
  adList: '/v2/AdManage/GetAdList',
  adCount: '/v2/AdManage/GetAdCount',
  saveBulkSendTask: '/v2/BulkSend/SaveBulkSendTask',
  registerCallbackUrl: '/v2/Public/registerCallbackUrl',
  subscribeEvent: '/v2/Public/subscribeEvent',
} as const;

/** Paths of the v1 data calls (§3), relative to the v1 base URL (`…/v1`), verbatim (`WeCaht` sic). */
export const YOUMI_V1_PATHS = {
  operatingAccounts: '/WeCaht',
  friends: '/friend',
  addFriend: '/friend/Add_Friend',
} as const;

/** How many different tokens one call may be sent with before a refusal is final. */
const MAX_TOKENS_PER_CALL = 3;

/** One request of a call: method, path, JSON body (POST) and query parameters. */
export interface YoumiCallRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
}

/** What a call answered, reduced to what the caller needs. */
type Outcome =
  | { kind: 'envelope'; succeed: boolean; code: number; description: string | undefined; values: unknown }
  | { kind: 'token-refused'; status: number };

/** The outcome of an envelope, from a 2xx or from a 4xx that carries one. */
function envelopeOutcome(envelope: YoumiEnvelope): Outcome {
  return {
    kind: 'envelope',
    succeed: envelope.succeed,
    code: envelope.errmsg,
    description: envelope.errdesc ?? undefined,
    values: envelope.values,
  };
}

/** Options of {@link YoumiCaller}. */
export interface YoumiCallerOptions {
  /** Client of the API host. */
  http: HttpClient;
  auth: YoumiAuthenticator;
  /** v1 sends bodies as `Content-type: text/json` (§1.2); v2 as `application/json`. */
  generation: 'v2' | 'v1';
  /** Retry of network errors, 5xx, malformed bodies and transient codes. */
  retry?: RetryPolicy;
}

/**
 * Sends one Youmi call: authenticates, reads the envelope (also from a 4xx that carries
 * one), validates `values`, and maps failures. A token refused as invalid (errmsg 10003 /
 * 10011, or a bare HTTP 401) is invalidated only if it is still the cached one, and the call
 * is sent again with the current token: N calls refused with one revoked token lead to one
 * token request. Transient codes (200011, 200005, 10006) and `values: null` where an array
 * is documented are retried with back-off, then raised as retryable errors.
 */
export class YoumiCaller {
  readonly #options: YoumiCallerOptions;

  /** Uses `options.http` for the API host and `options.auth` for every request. */
  constructor(options: YoumiCallerOptions) {
    this.#options = options;
  }

  /** Sends `request` and returns its `values` validated with `schema`. */
  call<Schema extends z.ZodType>(
    request: YoumiCallRequest,
    schema: Schema,
    options: PlatformCallOptions = {},
  ): Promise<z.output<Schema>> {
    const { signal, onRetry } = options;
    // Transport failures are retried by the HTTP client; here the platform's transient answers.
    return retryWithBackoff(() => this.#callOnce(request, schema, signal, onRetry), {
      policy: this.#options.retry ?? defaultRetryPolicy,
      ...(signal ? { signal } : {}),
      isRetryable: (error) =>
        isKefuError(error) &&
        error.retryable &&
        (error.code === 'YOUMI_API_ERROR' || error.code === 'YOUMI_BAD_ENVELOPE'),
      ...(onRetry ? { onRetry } : {}),
    });
  }

  async #callOnce<Schema extends z.ZodType>(
    request: YoumiCallRequest,
    schema: Schema,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ): Promise<z.output<Schema>> {
    const refused = new Set<string>();
    for (;;) {
      const { headers, token } = await this.#options.auth.authorize(signal);
      const outcome = await this.#send(request, headers, signal, onRetry);
      const tokenRefused =
        outcome.kind === 'token-refused' || (!outcome.succeed && TOKEN_INVALID_CODES.has(outcome.code));
      if (tokenRefused) {
        // Compare-and-invalidate: if another call already replaced this token, this is a no-op.
        this.#options.auth.invalidate(token);
        refused.add(token);
        const code = outcome.kind === 'envelope' ? outcome.code : outcome.status;
        const error = this.#tokenRejected(request.path, code, refused.size);
        if (refused.size >= MAX_TOKENS_PER_CALL) throw error;
        onRetry?.({ attempt: refused.size, delayMs: 0, error });
        continue;
      }
      if (outcome.kind !== 'envelope') throw new Error('unreachable');
      if (outcome.succeed) return this.#values(request.path, outcome.values, schema);
      const meaning = YOUMI_CODE_MEANINGS.get(outcome.code);
      throw youmiError(
        'YOUMI_API_ERROR',
        `Youmi ${request.path} failed with errmsg ${outcome.code}${meaning ? ` (${meaning})` : ''}: ${outcome.description || 'no errdesc'}`,
        {
          retryable: TRANSIENT_CODES.has(outcome.code),
          details: { path: request.path, platformCode: outcome.code, errdesc: outcome.description },
        },
      );
    }
  }

  async #send(
    request: YoumiCallRequest,
    headers: Record<string, string>,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ): Promise<Outcome> {
    const v1 = this.#options.generation === 'v1';
    const body =
      request.method === 'POST'
        ? v1
          ? { body: JSON.stringify(request.body ?? {}), headers: { ...headers, 'content-type': 'text/json' } }
          : { json: request.body ?? {}, headers }
        : { headers };
    let answer: Buffer;
    try {
      const response = await this.#options.http.request({
        method: request.method,
        path: request.path,
        ...(request.query ? { query: request.query } : {}),
        ...body,
        headers: { accept: 'application/json', ...body.headers },
        ...(signal ? { signal } : {}),
        ...(onRetry ? { onRetry } : {}),
        ...(this.#options.retry ? { retry: this.#options.retry } : {}),
      });
      answer = response.body;
    } catch (error) {
      return this.#outcomeOfStatusError(request.path, error);
    }
    const envelope = readEnvelopeText(answer);
    if (!envelope) {
      const quoted = answer.subarray(0, 800).toString('utf8').slice(0, 200);
      throw youmiError(
        'YOUMI_BAD_ENVELOPE',
        `Youmi ${request.path} did not answer an envelope {errmsg, succeed, values}: ${quoted || '(empty body)'}`,
        // A truncated body may heal; a body in another shape will not, but a few tries are cheap.
        { retryable: true, details: { path: request.path } },
      );
    }
    return envelopeOutcome(envelope);
  }

  /** A 4xx carrying an envelope is the platform's answer; a bare 401 refuses the token; the rest is thrown. */
  #outcomeOfStatusError(path: string, error: unknown): Outcome {
    if (!isKefuError(error) || error.code !== 'KEFU_HTTP_STATUS') throw error;
    const status = error.details.status;
    if (typeof status !== 'number' || status >= 500) throw error;
    const envelope = readEnvelopeText(String(error.details.body ?? ''));
    if (envelope) return envelopeOutcome(envelope);
    // ASP.NET's bearer middleware refuses an invalid token with a bare 401.
    if (status === 401) return { kind: 'token-refused', status };
    throw youmiError(
      'YOUMI_API_ERROR',
      `Youmi ${path} answered HTTP ${status} without an envelope${status === 404 || status === 405 ? ': the call does not exist at this base URL (check baseUrl / v1.baseUrl)' : ''}`,
      { cause: error, details: { path, status } },
    );
  }

  #values<Schema extends z.ZodType>(path: string, values: unknown, schema: Schema): z.output<Schema> {
    const parsed = schema.safeParse(values);
    if (parsed.success) return parsed.data;
    if (values === null || values === undefined) {
      // The docs require an array here (seed 002: values array 必需): not an empty page.
      throw youmiError(
        'YOUMI_BAD_ENVELOPE',
        `Youmi ${path} answered succeed=true with values ${String(values)} where the docs require a list; read as a transient failure, not as an empty page`,
        { retryable: true, details: { path, field: 'values' } },
      );
    }
    const issue = parsed.error.issues[0];
    throw youmiError(
      'YOUMI_BAD_ENVELOPE',
      `Youmi ${path} answered succeed=true with unexpected values: ${formatZodIssue(issue)}`,
      { retryable: false, details: { path, field: issue?.path.join('.') } },
    );
  }

  #tokenRejected(path: string, code: number, tokens: number): KefuError {
    return youmiError(
      'YOUMI_TOKEN_REJECTED',
      `Youmi ${path} refused ${tokens === 1 ? 'the token' : `${tokens} tokens in a row, the last freshly issued`} (code ${code})`,
      { details: { path, platformCode: code } },
    );
  }
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw youmiError('YOUMI_REQUEST_INVALID', `${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}

function requirePositiveInt(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw youmiError('YOUMI_REQUEST_INVALID', `${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

function checkUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw youmiError('YOUMI_REQUEST_INVALID', `url must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  }
}

/** Leaves out undefined fields, so only what the caller gave is sent. */
function defined<T extends Record<string, unknown>>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A time field written as `yyyy-MM-dd HH:mm:ss` Beijing time: a Date is formatted, text is sent as given. */
function dateText(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? formatBeijingTime(value.getTime()) : value;
}

/** GetChat request (§2.1, seed 002); page parameters are strings on the wire. */
export interface GetChatRequest {
  wechatId: number;
  fansKey: string;
  /** Seconds. */
  startTimestamp?: number;
  /** Seconds. */
  endTimestamp?: number;
  wechatKey?: string;
  minChattingId?: number;
  pageSize: number;
  pageIndex: number;
}

/** A doSendPublicMes message (§2.1: the PascalCase examples for text, image and video). */
export interface SendMessageRequest {
  /** 运营机ID: the operating account. */
  wechatId: number | string;
  /** The fan (发给哪个用户). */
  toUserName: string;
  /** `text`, `image`, `video` (documented examples) or another type the platform knows. */
  msgType: string;
  text?: string;
  /** Image or video link (a video link must carry its MIME-type suffix). */
  url?: string;
  /** File suffix of the image or video. */
  format?: string;
  description?: string;
  /** 0 = friend (inferred). Default 0. */
  relationType?: number;
  /** More PascalCase fields, sent as given (the examples were cut off). */
  extra?: Record<string, unknown>;
}

/** An applyTakeOver request (§2.1, snake_case on the wire, every field optional). */
export interface ApplyTakeOverRequest {
  /** The operating account's key (`wechat_key`). */
  wechatKey?: string;
  /** The fan's key (`friend_key`). */
  friendKey: string;
  /** The applicant's key (`apply_key`). */
  applyKey?: string;
  applyName?: string;
  applyReason?: string;
  /** The source; the one documented value is `QKB` (企客宝). */
  applySource?: string;
}

/** An ActivationConversation request (§2.1, snake_case on the wire). */
export interface ActivateConversationRequest {
  /** The friend's original WeChat id (`ad_friend_wenober`). */
  friendWechatId: string;
  /** The operating account's original WeChat id (`ad_original_nober`); this or `wechatId`. */
  originalWechatId?: string;
  /** The operating account (`ad_wechat_id`); this or `originalWechatId`. */
  wechatId?: number;
  /** The staff member to activate / notify (`staff_code`). */
  staffCode?: string;
  /** 1 = force the fan's attribution to the staff member; 0 = only their own fans. */
  enforceAttribution: 0 | 1;
  /** The reminder text; required when `activationType` is 1 or 2. */
  content: string;
  activationType?: number;
  switchSession?: number;
}

/** GetDataByStaffCustomer filters (§2.2). */
export interface StaffCustomerReportRequest {
  startDate?: Date | string;
  endDate?: Date | string;
  orderKey?: 'ad_staff_name' | 'depart_name' | 'depart_group_name';
  orderType: 'desc' | 'asc';
  staffCode?: string;
  departId?: number;
  departGroupId?: number;
  /** 1 = per department, 2 = per group, 3 = per staff member. */
  show: 1 | 2 | 3;
  /** Include disabled staff. */
  staffState: boolean;
  wechatLei?: number;
  relationIsFlock?: number;
  searchData?: string;
  pageIndex?: number;
  pageSize?: number;
}

/** GetActivationListByStaff filters (§2.2). */
export interface ActivationReportRequest {
  /** Any instant of the day; sent as that day's Beijing midnight in seconds. */
  day: Date | number;
  /** 0 = personal WeChat, 3 = WeCom. */
  wechatLei?: number;
  staffCode?: string;
  /** Default -1 (all). */
  departId?: number | string;
  departGroupId?: number | string;
}

/** AddRecord / AddRecordNew (§2.5, PascalCase on the wire, every field optional). */
export interface AddTodoRequest {
  /** The friend's original WeChat id (`Weixin`). */
  friendWechatId?: string;
  /** The creating staff member (`SffId`); the friend's ownership goes to them once done. */
  staffId?: string | number;
  remindTitle?: string;
  /** `FollowupsiTuation` (sic). */
  followUp?: string;
  remindTime?: Date | string;
  isAlways?: number;
  recipients?: string[];
  /** AddRecordNew only: `From`, `AdWecharId` (sic), `LevelColor`, `LevelName`, `EventType`. */
  from?: number;
  wechatId?: number;
  levelColor?: string;
  levelName?: string;
  eventType?: number;
}

/** GetChargeDaffairesList / …Count filters (§2.5). */
export interface TodoListRequest {
  /** Creation time range, seconds. */
  startTimestamp?: number;
  endTimestamp?: number;
  remindStartTimestamp?: number;
  remindEndTimestamp?: number;
  createStaff?: string;
  remindStaff?: string;
  /** `WecharId` (sic). */
  wechatId?: number;
  wechatNumber?: string;
  /** -1 all, 0 pending, 1 done. */
  state?: -1 | 0 | 1;
  todoId?: number;
  pageIndex?: number;
  pageSize?: number;
}

/** GetAdList / GetAdCount filters (§2.6; `name` is required by the docs, '' = any). */
export interface AdListRequest {
  code?: string;
  name?: string;
  minCosts?: number;
  maxCosts?: number;
  startTime?: Date | string;
  endTime?: Date | string;
  /** -1 all, 0 offline, 1 online. */
  state?: number;
  /** -1 all, 0 self-built, 1 企客宝. */
  buildType?: number;
  pageIndex?: number;
  pageSize?: number;
}

/** The v2 client: one method per call of §2. */
export class YoumiClient {
  readonly #caller: YoumiCaller;

  /** Sends through `caller` (the v2 generation). */
  constructor(caller: YoumiCaller) {
    this.#caller = caller;
  }

  /** Sends a v2 call by path; for calls this client has no method for. */
  call<Schema extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: Schema,
    options: PlatformCallOptions = {},
  ): Promise<z.output<Schema>> {
    return this.#caller.call({ method, path, body }, schema, options);
  }

  // --- ChatMess ---------------------------------------------------------------------

  /** 读取聊天记录: one page of a fan's chats (§2.1). */
  getChat(request: GetChatRequest, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.getChat, body: chatBody(request) },
      YoumiChatListSchema,
      options,
    );
  }

  /** Same as {@link getChat}, but each chat exactly as received (validated), for a lossless `raw`. */
  getChatRaw(request: GetChatRequest, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.getChat, body: chatBody(request) },
      YoumiRawChatListSchema,
      options,
    );
  }

  /** 发送消息 (doSendPublicMes, PascalCase); resolves with `values` as sent (the answer was not seen). */
  sendMessage(request: SendMessageRequest, options: PlatformCallOptions = {}): Promise<unknown> {
    requireText('toUserName', request.toUserName);
    requireText('msgType', request.msgType);
    if (request.msgType === 'text') requireText('text', request.text ?? request.extra?.Text);
    const body = {
      ...request.extra,
      ...defined({
        WechatId: request.wechatId,
        ToUserName: request.toUserName,
        RelationType: request.relationType ?? 0,
        MsgType: request.msgType,
        Text: request.text,
        Url: request.url,
        Format: request.format,
        Description: request.description,
      }),
    };
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.sendMessage, body }, z.unknown(), options);
  }

  /** 申请接管 (applyTakeOver, snake_case); resolves with `values` as sent (not seen). */
  applyTakeOver(request: ApplyTakeOverRequest, options: PlatformCallOptions = {}): Promise<unknown> {
    requireText('friendKey', request.friendKey);
    const body = defined({
      wechat_key: request.wechatKey,
      friend_key: request.friendKey,
      apply_key: request.applyKey,
      apply_name: request.applyName,
      apply_reason: request.applyReason,
      apply_source: request.applySource,
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.applyTakeOver, body }, z.unknown(), options);
  }

  /** 激活会话 (ActivationConversation, snake_case); resolves with `values` as sent (not seen). */
  activateConversation(request: ActivateConversationRequest, options: PlatformCallOptions = {}): Promise<unknown> {
    requireText('friendWechatId', request.friendWechatId);
    if (request.wechatId === undefined && !request.originalWechatId) {
      throw youmiError('YOUMI_REQUEST_INVALID', 'name the operating account: wechatId or originalWechatId');
    }
    if ((request.activationType === 1 || request.activationType === 2) && !request.content) {
      throw youmiError('YOUMI_REQUEST_INVALID', 'content is required when activationType is 1 or 2');
    }
    const body = defined({
      ad_friend_wenober: request.friendWechatId,
      ad_original_nober: request.originalWechatId,
      ad_wechat_id: request.wechatId,
      staff_code: request.staffCode,
      enforceAttribution: request.enforceAttribution,
      content: request.content,
      activationType: request.activationType,
      switchSession: request.switchSession,
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.activateConversation, body }, z.unknown(), options);
  }

  // --- Report -----------------------------------------------------------------------

  /** 获取员工客服统计 (§2.2): rows as sent (the answer was not seen). */
  staffCustomerReport(request: StaffCustomerReportRequest, options: PlatformCallOptions = {}) {
    const body = defined({
      ...request,
      startDate: dateText(request.startDate),
      endDate: dateText(request.endDate),
    });
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.staffCustomerReport, body },
      YoumiRowListSchema,
      options,
    );
  }

  /** 获取员工激活客户数统计 (§2.2): rows as sent (not seen). */
  activationReport(request: ActivationReportRequest, options: PlatformCallOptions = {}) {
    const day = request.day instanceof Date ? request.day.getTime() : request.day;
    if (!Number.isFinite(day)) throw youmiError('YOUMI_REQUEST_INVALID', 'day must be a Date or ms since the epoch');
    const body = defined({
      time: beijingMidnightSeconds(day),
      wechat_lei: request.wechatLei,
      ad_staff_code: request.staffCode,
      ad_departid: String(request.departId ?? -1),
      ad_departgroupid: request.departGroupId === undefined ? undefined : String(request.departGroupId),
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.activationReport, body }, YoumiRowListSchema, options);
  }

  // --- System -----------------------------------------------------------------------

  /** 获取部门列表 (GET, §2.3): `[{departid, departname}]`, the documented example. */
  departments(options: PlatformCallOptions = {}) {
    return this.#caller.call({ method: 'GET', path: YOUMI_PATHS.departments }, z.array(YoumiDepartmentSchema), options);
  }

  /** 根据部门获得组 (§2.3): groups of a department (-1 = all), rows as sent (not seen). */
  departmentGroups(departId = -1, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.departmentGroups, body: { departId } },
      YoumiRowListSchema,
      options,
    );
  }

  /** 根据组获得员工 (§2.3): staff of a department / group (-1 = all); `staffState` 0 valid only, 1 all. */
  staffList(
    request: { departId?: number; departGroupId?: number; staffState?: 0 | 1 } = {},
    options: PlatformCallOptions = {},
  ) {
    const body = {
      departId: request.departId ?? -1,
      departGroupId: request.departGroupId ?? -1,
      staffState: request.staffState ?? 1,
    };
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.staffList, body }, YoumiRowListSchema, options);
  }

  // --- Friend -----------------------------------------------------------------------

  /**
   * 读取粉丝列表 (§2.4): one page of an account's fans, rows as sent (the answer was not seen).
   * Paging fields were not seen either: `pageIndex` / `pageSize` as GetChat and the lists name them.
   */
  fansList(
    request: {
      wechatId: number;
      wechatKey?: string;
      fansKey?: string;
      fansName?: string;
      pageIndex: number;
      pageSize: number;
    },
    options: PlatformCallOptions = {},
  ) {
    requirePositiveInt('wechatId', request.wechatId);
    requirePositiveInt('pageIndex', request.pageIndex);
    requirePositiveInt('pageSize', request.pageSize);
    const body = defined({
      wechatId: request.wechatId,
      wechatKey: request.wechatKey,
      fansKe: request.fansKey,
      fansName: request.fansName,
      pageIndex: request.pageIndex,
      pageSize: request.pageSize,
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.fansList, body }, YoumiRowListSchema, options);
  }

  /**
   * 读取粉丝总数 (§2.4). `fansKe` is marked required: it is sent, empty unless a fan is named,
   * so the count is of every fan (the answer was not seen: a number or `{count}`).
   */
  fansCount(
    request: { wechatId?: number; wechatKey?: string; fansKey?: string; fansName?: string; staffCode?: string } = {},
    options: PlatformCallOptions = {},
  ): Promise<number> {
    const body = defined({
      wechatId: request.wechatId,
      wechatKey: request.wechatKey,
      fansKe: request.fansKey ?? '',
      fansName: request.fansName,
      staffCode: request.staffCode,
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.fansCount, body }, YoumiCountSchema, options);
  }

  // --- Todo -------------------------------------------------------------------------

  /** 新增待办记录 (AddRecord): resolves with `values` as sent (not seen). */
  addTodo(request: AddTodoRequest, options: PlatformCallOptions = {}): Promise<unknown> {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.addTodo, body: todoBody(request) },
      z.unknown(),
      options,
    );
  }

  /** 新增待办记录(返回编号) (AddRecordNew): the new record's id, as text. */
  addTodoReturningId(request: AddTodoRequest, options: PlatformCallOptions = {}): Promise<string> {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.addTodoReturningId, body: todoBody(request) },
      YoumiIdSchema,
      options,
    );
  }

  /** 获取待办列表: one page of to-do records, rows as sent (not seen). */
  todoList(request: TodoListRequest = {}, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.todoList, body: todoFilters(request, true) },
      YoumiRowListSchema,
      options,
    );
  }

  /** 获取待办列表总数. */
  todoCount(request: TodoListRequest = {}, options: PlatformCallOptions = {}): Promise<number> {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.todoCount, body: todoFilters(request, false) },
      YoumiCountSchema,
      options,
    );
  }

  // --- Ad ---------------------------------------------------------------------------

  /** 读取广告列表 (AdManage): one page of ads, rows as sent. */
  adList(request: AdListRequest = {}, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.adList, body: adBody(request, true) },
      YoumiRowListSchema,
      options,
    );
  }

  /** 读取广告条数 (AdManage). */
  adCount(request: AdListRequest = {}, options: PlatformCallOptions = {}): Promise<number> {
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.adCount, body: adBody(request, false) },
      YoumiCountSchema,
      options,
    );
  }

  // --- BulkSend ---------------------------------------------------------------------

  /**
   * 保存RPA群发 (marked 开发中): `task_content` items `{type, data}` (type "0" text `{content}`,
   * "1" image, "2" video …); the other fields were not seen and pass as `extra`. Resolves with the task id.
   */
  saveBulkSendTask(
    request: { taskContent: Array<{ type: string; data: Record<string, unknown> }>; extra?: Record<string, unknown> },
    options: PlatformCallOptions = {},
  ): Promise<string> {
    if (!Array.isArray(request.taskContent) || request.taskContent.length === 0) {
      throw youmiError('YOUMI_REQUEST_INVALID', 'taskContent must list at least one {type, data} item');
    }
    return this.#caller.call(
      {
        method: 'POST',
        path: YOUMI_PATHS.saveBulkSendTask,
        body: { ...request.extra, task_content: request.taskContent },
      },
      YoumiIdSchema,
      options,
    );
  }

  // --- Public -----------------------------------------------------------------------

  /** 注册回调地址: `type` is the product line (100 企客宝, 200 金桥), not an event type. */
  registerCallbackUrl(url: string, type: 100 | 200 = 100, options: PlatformCallOptions = {}): Promise<unknown> {
    checkUrl(url);
    return this.#caller.call(
      { method: 'POST', path: YOUMI_PATHS.registerCallbackUrl, body: { url, type } },
      z.unknown(),
      options,
    );
  }

  /** 订阅事件: `messageTypes` are event names (`chat`, `fansInfoChange`, …; the allowed list was not seen). */
  subscribeEvent(
    request: { url: string; appId: string; messageTypes: string[] },
    options: PlatformCallOptions = {},
  ): Promise<unknown> {
    checkUrl(request.url);
    requireText('appId', request.appId);
    return this.#caller.call({ method: 'POST', path: YOUMI_PATHS.subscribeEvent, body: request }, z.unknown(), options);
  }
}

function chatBody(request: GetChatRequest) {
  requirePositiveInt('wechatId', request.wechatId);
  requireText('fansKey', request.fansKey);
  requirePositiveInt('pageSize', request.pageSize);
  requirePositiveInt('pageIndex', request.pageIndex);
  // Seed 002: pageSize and pageIndex are strings.
  return { ...request, pageSize: String(request.pageSize), pageIndex: String(request.pageIndex) };
}

function todoBody(request: AddTodoRequest) {
  return defined({
    Weixin: request.friendWechatId,
    From: request.from,
    SffId: request.staffId,
    RemindTitle: request.remindTitle,
    FollowupsiTuation: request.followUp,
    RemindTime: dateText(request.remindTime),
    IsAlways: request.isAlways,
    Recipient: request.recipients,
    AdWecharId: request.wechatId,
    LevelColor: request.levelColor,
    LevelName: request.levelName,
    EventType: request.eventType,
  });
}

function todoFilters(request: TodoListRequest, paged: boolean) {
  return defined({
    startTimestamp: request.startTimestamp,
    endTimestamp: request.endTimestamp,
    remindStartTimestamp: request.remindStartTimestamp,
    remindEndTimestamp: request.remindEndTimestamp,
    createStaff: request.createStaff,
    remindStaff: request.remindStaff,
    WecharId: request.wechatId,
    wechatNober: request.wechatNumber,
    usersate: request.state ?? -1,
    chargeDaffairesId: request.todoId,
    ...(paged ? { pageIndex: request.pageIndex ?? 1, pageSize: request.pageSize ?? 20 } : {}),
  });
}

function adBody(request: AdListRequest, paged: boolean) {
  return defined({
    code: request.code,
    name: request.name ?? '',
    minCosts: request.minCosts,
    maxCosts: request.maxCosts,
    startTime: dateText(request.startTime),
    endTime: dateText(request.endTime),
    state: request.state ?? -1,
    buildType: request.buildType ?? -1,
    ...(paged ? { pageIndex: request.pageIndex ?? 1, pageSize: request.pageSize ?? 10 } : {}),
  });
}

/** 读取好友 filters (§3): every one optional; without any, the first 20 friends. */
export interface V1FriendsRequest {
  wechatId?: number;
  wechatNo?: string;
  /** Added-time range (`2018-08-08 10:01:03`). */
  startTime?: Date | string;
  endTime?: Date | string;
  /** Bind-time range, seconds. */
  bindFrom?: number;
  bindTo?: number;
  /** Last-chat-time range, seconds. */
  chattedFrom?: number;
  chattedTo?: number;
  page?: number;
  pageSize?: number;
  staffCode?: string;
  /** Modified after (seconds). */
  modifiedAfter?: number;
  /** -1 all, 0 friend, 1 group, 2 WeCom person, 3 WeCom group. */
  relationKind?: number;
  /** -1 all, 0 valid, 1 deleted by us, 4 deleted by them, 5 blocked by us, 6 blocked by them. */
  relationState?: number;
  /** 0 personal WeChat, 3 WeCom. */
  wechatKind?: number;
  orderByKey?: 'ad_relation_id' | 'ad_updatechatting_time';
  orderByModel?: 'asc' | 'desc';
}

/** The v1 client: one method per data call of §3 (signed headers, the same envelope). */
export class YoumiV1Client {
  readonly #caller: YoumiCaller;

  /** Sends through `caller` (the v1 generation, base `…/v1`). */
  constructor(caller: YoumiCaller) {
    this.#caller = caller;
  }

  /** 运营号配置 (GET `WeCaht`): the operating accounts, optionally one kind (0 personal, 3 WeCom). */
  operatingAccounts(kind?: 0 | 3, options: PlatformCallOptions = {}) {
    return this.#caller.call(
      { method: 'GET', path: YOUMI_V1_PATHS.operatingAccounts, query: { ad_wechat_lei: kind } },
      YoumiRowListSchema,
      options,
    );
  }

  /** 读取好友 (GET `friend`): friends matching the filters, rows as sent (a list, or one object). */
  friends(request: V1FriendsRequest = {}, options: PlatformCallOptions = {}) {
    const query = {
      Wechat_id: request.wechatId,
      Wechat_No: request.wechatNo,
      StartTime: dateText(request.startTime),
      EndTime: dateText(request.endTime),
      ad_bind_Stime: request.bindFrom,
      ad_bind_Etime: request.bindTo,
      ad_updatechatting_Stime: request.chattedFrom,
      ad_updatechatting_Etime: request.chattedTo,
      Page: request.page,
      PageSize: request.pageSize,
      ad_staff_code: request.staffCode,
      ad_relation_expand3: request.modifiedAfter,
      ad_relation_isflock: request.relationKind,
      ad_relation_state: request.relationState,
      ad_wechat_lei: request.wechatKind,
      order_by_key: request.orderByKey,
      order_by_model: request.orderByModel,
    };
    // The doc's answer shows `values: {…}`: one friend object is read as a list of one.
    const rows = z.union([YoumiRowListSchema, z.record(z.string(), z.unknown()).transform((row) => [row])]);
    return this.#caller.call({ method: 'GET', path: YOUMI_V1_PATHS.friends, query }, rows, options);
  }

  /** 添加好友 (POST `friend/Add_Friend`): without `staffCode` the request is queued. */
  addFriend(
    request: { receiverId: string | number; mobile: string; greeting: string; pcKid: string; staffCode?: string },
    options: PlatformCallOptions = {},
  ): Promise<unknown> {
    requireText('mobile', request.mobile);
    requireText('greeting', request.greeting);
    requireText('pcKid', request.pcKid);
    const body = defined({
      ReceiVerId: request.receiverId,
      Wechat_Moble: request.mobile,
      GreeTing: request.greeting,
      PcKid: request.pcKid,
      sffcode: request.staffCode,
    });
    return this.#caller.call({ method: 'POST', path: YOUMI_V1_PATHS.addFriend, body }, z.unknown(), options);
  }
}
