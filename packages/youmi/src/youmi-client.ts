import {
  defaultRetryPolicy,
  type HttpClient,
  isKefuError,
  type KefuError,
  type ProviderRetry,
  type RetryPolicy,
  retryWithBackoff,
} from '@kefu/core';
import { z } from 'zod';
import { youmiError } from './errors.js';
import type { YoumiAuthenticator } from './youmi-auth.js';
import {
  YoumiChatListSchema,
  YoumiCountSchema,
  YoumiDepartmentSchema,
  YoumiEnvelopeSchema,
  YoumiFanListSchema,
  YoumiGroupSchema,
  YoumiIdSchema,
  YoumiObjectListSchema,
  YoumiRawChatListSchema,
  YoumiStaffSchema,
  YoumiV1EnvelopeSchema,
} from './youmi-schemas.js';

/**
 * The typed Youmi open-API client: one method per v2 call of API-NOTES. Every call
 * goes through {@link YoumiClient.call}, the only place that authenticates, reads the
 * envelope (`succeed` decides, not the HTTP status), refreshes a refused token once,
 * and turns platform codes into typed errors.
 */

/** Paths of the calls, relative to the base URL (seed 002 menu; GetChat verbatim). */
export const YOUMI_PATHS = {
  getChat: '/v2/ChatMess/GetChat',
  sendMessage: '/v2/ChatMess/doSendPublicMes',
  applyTakeOver: '/v2/ChatMess/applyTakeOver',
  terminateTakeOver: '/v2/ChatMess/terminateTakeOver',
  activateConversation: '/v2/ChatMess/ActivationConversation',
  sendNotice: '/v2/ChatMess/sendNotice',
  staffServiceReport: '/v2/Report/GetStaffServiceStats',
  activatedCustomersReport: '/v2/Report/GetStaffActivatedStats',
  departments: '/v2/System/GetDepartmentList',
  groupsByDepartment: '/v2/System/GetGroupsByDepartment',
  staffByGroup: '/v2/System/GetStaffByGroup',
  staffList: '/v2/System/GetStaffList',
  fansList: '/v2/Friend/GetFansList',
  fansCount: '/v2/Friend/GetFansCount',
  addTodo: '/v2/Todo/AddTodo',
  addTodoReturningId: '/v2/Todo/AddTodoReturnId',
  todoList: '/v2/Todo/GetTodoList',
  todoCount: '/v2/Todo/GetTodoCount',
  adList: '/v2/Ad/GetAdList',
  adCount: '/v2/Ad/GetAdCount',
  saveBulkSend: '/v2/BulkSend/SaveRpaBulkSend',
  deleteBulkSend: '/v2/BulkSend/DeleteRpaBulkSend',
  registerCallbackUrl: '/v2/Public/registerCallbackUrl',
  subscribeEvent: '/v2/Public/subscribeEvent',
} as const;

/** Paths of the v1 calls kefu uses (records and callbacks), relative to the base URL. */
export const YOUMI_V1_PATHS = {
  token: '/v1/Token/GetToken',
  getChat: '/v1/ChatMess/GetChatList',
  fansList: '/v1/Friend/GetFansList',
  setCallbackUrl: '/v1/Public/SetCallbackUrl',
} as const;

/** Codes meaning "the token is invalid, expired or revoked": refresh once and retry (v2 errmsg 401, v1 ReturnCode 200004). */
export const TOKEN_REJECTED_CODES: ReadonlySet<number> = new Set([401, 200004]);
/** Codes worth retrying with back-off (platform busy, rate limited, v1 timestamp outside the 10-minute window). */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([-1, 429, 503, 200005]);

/** What doSendPublicMes answers: the stored chat's id, message id and time. */
export const YoumiSentMessageSchema = z.looseObject({
  ad_chatting_id: z.int().optional(),
  ad_sermsgid: z.string().nullish(),
  ad_chatting_time: z.string().nullish(),
});
/** What applyTakeOver answers. */
export const YoumiTakeOverSchema = z.looseObject({ takeOverKey: z.string().min(1) });

/** A response envelope of either generation, reduced to what the client needs. */
interface Outcome {
  succeed: boolean;
  code: number;
  description: string | undefined;
  values: unknown;
}

/** Options of {@link YoumiClient}. */
export interface YoumiClientOptions {
  /** Client of the API host (base URL = the provider's `baseUrl`). */
  http: HttpClient;
  auth: YoumiAuthenticator;
  /** Which envelope the API answers with: v2 `{succeed, errmsg, values}` or v1 `{Result, ReturnCode, Data}`. */
  envelope?: 'v2' | 'v1';
  /** Retry of network errors, 5xx and malformed bodies (passed to the HTTP client per request). */
  retry?: RetryPolicy;
}

/** GetChat request body (seed 002); page parameters are strings on the wire. */
export interface GetChatRequest {
  wechatId: number;
  fansKey: string;
  startTimestamp?: number;
  endTimestamp?: number;
  wechatKey?: string;
  minChattingId?: number;
  pageSize: number;
  pageIndex: number;
}

/** A page request of list calls. */
export interface PageRequest {
  pageIndex?: number;
  pageSize?: number;
}

/** A message to send with doSendPublicMes. */
export interface SendMessageRequest {
  wechatId: number;
  fansKey: string;
  content: string;
  /** Type code (seed 002); text (1) by default. */
  messageType?: number;
  /** Extra data for non-text types (sent as an object; stored URL-encoded by the platform). */
  resvred?: Record<string, unknown>;
  staffCode?: string;
}

/** A to-do item. */
export interface AddTodoRequest {
  wechatId: number;
  fansKey: string;
  staffCode: string;
  content: string;
  /** When to remind, seconds since epoch. */
  remindTimestamp?: number;
}

/** A time range in seconds (Report calls). */
export interface ReportRequest {
  startTimestamp: number;
  endTimestamp: number;
  staffCode?: string;
}

/** Event types that callbacks and subscriptions can carry. */
export type YoumiEventName = 'fansInfoChange' | 'fansAttributionChange' | 'chat' | 'rpaTaskResult';

const anyValues = z.unknown();

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

/** The typed Youmi open-API client. */
export class YoumiClient {
  readonly #http: HttpClient;
  readonly #auth: YoumiAuthenticator;
  readonly #envelope: 'v2' | 'v1';
  readonly #retry: RetryPolicy | undefined;

  /** Uses `http` for the API host and `auth` for every request. */
  constructor(options: YoumiClientOptions) {
    this.#http = options.http;
    this.#auth = options.auth;
    this.#envelope = options.envelope ?? 'v2';
    this.#retry = options.retry;
  }

  /**
   * POSTs `body` to `path`, checks the envelope and validates `values` with `schema`.
   * A refused token is invalidated and the call retried once with a fresh one.
   */
  call<Schema extends z.ZodType>(
    path: string,
    body: unknown,
    schema: Schema,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ): Promise<z.output<Schema>> {
    // Transport failures are retried by the HTTP client; here only transient platform codes (busy).
    return retryWithBackoff(() => this.#callOnce(path, body, schema, signal, onRetry), {
      policy: this.#retry ?? defaultRetryPolicy,
      ...(signal ? { signal } : {}),
      isRetryable: (error) => isKefuError(error) && error.code === 'YOUMI_API_ERROR' && error.retryable,
      ...(onRetry ? { onRetry } : {}),
    });
  }

  async #callOnce<Schema extends z.ZodType>(
    path: string,
    body: unknown,
    schema: Schema,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ): Promise<z.output<Schema>> {
    for (let attempt = 1; ; attempt++) {
      const { headers, token } = await this.#auth.authorize(signal);
      let outcome: Outcome;
      try {
        outcome = await this.#post(path, body, headers, signal, onRetry);
      } catch (error) {
        // Some gateways answer a bad token with HTTP 401 instead of an envelope.
        if (isKefuError(error) && error.details.status === 401) {
          this.#auth.invalidate(token);
          if (attempt === 1) {
            onRetry?.({ attempt, delayMs: 0, error });
            continue;
          }
          throw this.#tokenRejected(path, 401, error);
        }
        throw error;
      }
      if (outcome.succeed) return this.#values(path, outcome.values, schema);
      if (TOKEN_REJECTED_CODES.has(outcome.code)) {
        this.#auth.invalidate(token);
        if (attempt === 1) {
          onRetry?.({ attempt, delayMs: 0, error: this.#tokenRejected(path, outcome.code) });
          continue;
        }
        throw this.#tokenRejected(path, outcome.code);
      }
      throw youmiError(
        'YOUMI_API_ERROR',
        `Youmi ${path} failed with code ${outcome.code}: ${outcome.description ?? 'no description'}`,
        {
          retryable: TRANSIENT_CODES.has(outcome.code),
          details: { path, platformCode: outcome.code, errdesc: outcome.description },
        },
      );
    }
  }

  async #post(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ): Promise<Outcome> {
    const request = {
      method: 'POST' as const,
      path,
      json: body ?? {},
      headers: { accept: 'application/json', ...headers },
      ...(signal ? { signal } : {}),
      ...(onRetry ? { onRetry } : {}),
      ...(this.#retry ? { retry: this.#retry } : {}),
    };
    try {
      if (this.#envelope === 'v1') {
        const envelope = await this.#http.requestJson(request, YoumiV1EnvelopeSchema);
        return {
          succeed: envelope.Result,
          code: envelope.ReturnCode,
          description: envelope.Message ?? undefined,
          values: envelope.Data,
        };
      }
      const envelope = await this.#http.requestJson(request, YoumiEnvelopeSchema);
      return {
        succeed: envelope.succeed,
        code: envelope.errmsg,
        description: envelope.errdesc ?? undefined,
        values: envelope.values,
      };
    } catch (error) {
      // `succeed` decides, not the status: a 4xx carrying an envelope is a platform answer.
      const answered = isKefuError(error) ? this.#envelopeOfStatusError(error) : undefined;
      if (answered) return answered;
      if (isKefuError(error) && error.code === 'KEFU_HTTP_BAD_BODY') {
        throw youmiError(
          'YOUMI_BAD_ENVELOPE',
          `Youmi ${path} did not answer a ${this.#envelope} envelope: ${error.message}`,
          {
            cause: error,
            retryable: error.retryable,
            details: { path, ...error.details },
          },
        );
      }
      throw error;
    }
  }

  #envelopeOfStatusError(error: KefuError): Outcome | undefined {
    const status = error.details.status;
    if (error.code !== 'KEFU_HTTP_STATUS' || typeof status !== 'number' || status >= 500) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(String(error.details.body ?? ''));
    } catch {
      return undefined;
    }
    if (this.#envelope === 'v1') {
      const v1 = YoumiV1EnvelopeSchema.safeParse(body);
      return v1.success
        ? {
            succeed: v1.data.Result,
            code: v1.data.ReturnCode,
            description: v1.data.Message ?? undefined,
            values: v1.data.Data,
          }
        : undefined;
    }
    const v2 = YoumiEnvelopeSchema.safeParse(body);
    return v2.success
      ? {
          succeed: v2.data.succeed,
          code: v2.data.errmsg,
          description: v2.data.errdesc ?? undefined,
          values: v2.data.values,
        }
      : undefined;
  }

  #values<Schema extends z.ZodType>(path: string, values: unknown, schema: Schema): z.output<Schema> {
    const parsed = schema.safeParse(values);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw youmiError(
      'YOUMI_BAD_ENVELOPE',
      `Youmi ${path} answered succeed=true with unexpected values: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      { retryable: false, details: { path, field: issue?.path.join('.') } },
    );
  }

  #tokenRejected(path: string, code: number, cause?: KefuError): KefuError {
    return youmiError('YOUMI_TOKEN_REJECTED', `Youmi ${path} refused a freshly issued token (code ${code})`, {
      cause,
      details: { path, platformCode: code },
    });
  }

  // --- ChatMess ---------------------------------------------------------------------

  /** Reads chats of one fan (seed 002); `minChattingId` is the exclusive incremental cursor. */
  getChat(request: GetChatRequest, signal?: AbortSignal) {
    return this.call(this.#chatPath(), this.#chatBody(request), YoumiChatListSchema, signal);
  }

  /** Same as {@link getChat}, but each chat exactly as received (validated), for lossless `raw`. */
  getChatRaw(request: GetChatRequest, signal?: AbortSignal, onRetry?: (retry: ProviderRetry) => void) {
    return this.call(this.#chatPath(), this.#chatBody(request), YoumiRawChatListSchema, signal, onRetry);
  }

  #chatPath(): string {
    return this.#envelope === 'v1' ? YOUMI_V1_PATHS.getChat : YOUMI_PATHS.getChat;
  }

  #chatBody(request: GetChatRequest) {
    requirePositiveInt('wechatId', request.wechatId);
    requireText('fansKey', request.fansKey);
    requirePositiveInt('pageSize', request.pageSize);
    requirePositiveInt('pageIndex', request.pageIndex);
    // Seed 002: page parameters are strings.
    return { ...request, pageSize: String(request.pageSize), pageIndex: String(request.pageIndex) };
  }

  /** Sends a message to a fan (doSendPublicMes); resolves with the stored chat's id. */
  sendMessage(request: SendMessageRequest, signal?: AbortSignal) {
    requirePositiveInt('wechatId', request.wechatId);
    requireText('fansKey', request.fansKey);
    requireText('content', request.content);
    return this.call(YOUMI_PATHS.sendMessage, request, YoumiSentMessageSchema, signal);
  }

  /** Applies for taking over a hosted conversation as `staffCode`; resolves with the takeover key. */
  applyTakeOver(
    request: { wechatId: number; fansKey: string; staffCode: string; reason?: string },
    signal?: AbortSignal,
  ) {
    requirePositiveInt('wechatId', request.wechatId);
    requireText('fansKey', request.fansKey);
    requireText('staffCode', request.staffCode);
    return this.call(YOUMI_PATHS.applyTakeOver, request, YoumiTakeOverSchema, signal);
  }

  /** Ends a takeover. */
  terminateTakeOver(
    request: { wechatId: number; fansKey: string; takeOverKey?: string },
    signal?: AbortSignal,
  ): Promise<unknown> {
    requirePositiveInt('wechatId', request.wechatId);
    requireText('fansKey', request.fansKey);
    return this.call(YOUMI_PATHS.terminateTakeOver, request, anyValues, signal);
  }

  /** Activates (opens) a conversation with a fan for a staff member. */
  activateConversation(
    request: { wechatId: number; fansKey: string; staffCode: string },
    signal?: AbortSignal,
  ): Promise<unknown> {
    requirePositiveInt('wechatId', request.wechatId);
    requireText('fansKey', request.fansKey);
    requireText('staffCode', request.staffCode);
    return this.call(YOUMI_PATHS.activateConversation, request, anyValues, signal);
  }

  /** Sends a notice to staff members. */
  sendNotice(
    request: { staffCodes: string[]; title: string; content: string },
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (!Array.isArray(request.staffCodes) || request.staffCodes.length === 0) {
      throw youmiError('YOUMI_REQUEST_INVALID', 'staffCodes must list at least one staff code');
    }
    requireText('title', request.title);
    requireText('content', request.content);
    return this.call(YOUMI_PATHS.sendNotice, request, anyValues, signal);
  }

  // --- Report -----------------------------------------------------------------------

  /** Per-staff customer-service statistics over a time range (seconds). */
  staffServiceReport(request: ReportRequest, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.staffServiceReport, checkedRange(request), YoumiObjectListSchema, signal);
  }

  /** Per-staff activated-customer counts over a time range (seconds). */
  activatedCustomersReport(request: ReportRequest, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.activatedCustomersReport, checkedRange(request), YoumiObjectListSchema, signal);
  }

  // --- System -----------------------------------------------------------------------

  /** Departments of the merchant. */
  departments(signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.departments, {}, z.array(YoumiDepartmentSchema), signal);
  }

  /** Groups of a department. */
  groupsByDepartment(departmentId: number, signal?: AbortSignal) {
    requirePositiveInt('departmentId', departmentId);
    return this.call(YOUMI_PATHS.groupsByDepartment, { departmentId }, z.array(YoumiGroupSchema), signal);
  }

  /** Staff members of a group. */
  staffByGroup(groupId: number, signal?: AbortSignal) {
    requirePositiveInt('groupId', groupId);
    return this.call(YOUMI_PATHS.staffByGroup, { groupId }, z.array(YoumiStaffSchema), signal);
  }

  /** One page of staff members. */
  staffList(request: PageRequest = {}, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.staffList, withPage(request), z.array(YoumiStaffSchema), signal);
  }

  /** Registers the v1 callback URL (every event, v1 format `{Type, MerchantId, MsgTime, Values}`). */
  setV1CallbackUrl(url: string, signal?: AbortSignal): Promise<unknown> {
    checkUrl(url);
    return this.call(YOUMI_V1_PATHS.setCallbackUrl, { url }, anyValues, signal);
  }

  // --- Friend -----------------------------------------------------------------------

  /** One page of an account's fans, in the platform's stable order. */
  fansList(
    request: { wechatId: number } & PageRequest,
    signal?: AbortSignal,
    onRetry?: (retry: ProviderRetry) => void,
  ) {
    requirePositiveInt('wechatId', request.wechatId);
    const path = this.#envelope === 'v1' ? YOUMI_V1_PATHS.fansList : YOUMI_PATHS.fansList;
    return this.call(path, withPage(request), YoumiFanListSchema, signal, onRetry);
  }

  /** Number of fans of an account. */
  fansCount(wechatId: number, signal?: AbortSignal) {
    requirePositiveInt('wechatId', wechatId);
    return this.call(YOUMI_PATHS.fansCount, { wechatId }, YoumiCountSchema, signal);
  }

  // --- Todo -------------------------------------------------------------------------

  /** Adds a to-do record. */
  addTodo(request: AddTodoRequest, signal?: AbortSignal): Promise<unknown> {
    checkTodo(request);
    return this.call(YOUMI_PATHS.addTodo, request, anyValues, signal);
  }

  /** Adds a to-do record and returns its id. */
  addTodoReturningId(request: AddTodoRequest, signal?: AbortSignal): Promise<string> {
    checkTodo(request);
    return this.call(YOUMI_PATHS.addTodoReturningId, request, YoumiIdSchema, signal);
  }

  /** One page of to-do records. */
  todoList(request: { wechatId?: number; staffCode?: string } & PageRequest = {}, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.todoList, withPage(request), YoumiObjectListSchema, signal);
  }

  /** Number of to-do records. */
  todoCount(request: { wechatId?: number; staffCode?: string } = {}, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.todoCount, request, YoumiCountSchema, signal);
  }

  // --- Ad ---------------------------------------------------------------------------

  /** One page of ads. */
  adList(request: PageRequest = {}, signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.adList, withPage(request), YoumiObjectListSchema, signal);
  }

  /** Number of ads. */
  adCount(signal?: AbortSignal) {
    return this.call(YOUMI_PATHS.adCount, {}, YoumiCountSchema, signal);
  }

  // --- BulkSend ---------------------------------------------------------------------

  /** Saves an RPA bulk-send task; returns its id. */
  saveBulkSend(
    request: { wechatId: number; fansKeys: string[]; content: string; sendTimestamp?: number },
    signal?: AbortSignal,
  ): Promise<string> {
    requirePositiveInt('wechatId', request.wechatId);
    if (!Array.isArray(request.fansKeys) || request.fansKeys.length === 0) {
      throw youmiError('YOUMI_REQUEST_INVALID', 'fansKeys must list at least one fan');
    }
    requireText('content', request.content);
    return this.call(YOUMI_PATHS.saveBulkSend, request, YoumiIdSchema, signal);
  }

  /** Deletes an RPA bulk-send task. */
  deleteBulkSend(taskId: string, signal?: AbortSignal): Promise<unknown> {
    requireText('taskId', taskId);
    return this.call(YOUMI_PATHS.deleteBulkSend, { taskId }, anyValues, signal);
  }

  // --- Public -----------------------------------------------------------------------

  /** Registers the URL Youmi posts events of `type` to (`all` = every event). */
  registerCallbackUrl(url: string, type: YoumiEventName | 'all', signal?: AbortSignal): Promise<unknown> {
    checkUrl(url);
    return this.call(YOUMI_PATHS.registerCallbackUrl, { url, type }, anyValues, signal);
  }

  /** Subscribes a URL to event types (empty = all). */
  subscribeEvent(
    request: { url: string; appId: string; messageTypes: YoumiEventName[] },
    signal?: AbortSignal,
  ): Promise<unknown> {
    checkUrl(request.url);
    requireText('appId', request.appId);
    return this.call(YOUMI_PATHS.subscribeEvent, request, anyValues, signal);
  }
}

function withPage<T extends PageRequest>(request: T): T & { pageIndex: number; pageSize: number } {
  const pageIndex = request.pageIndex ?? 1;
  const pageSize = request.pageSize ?? 20;
  requirePositiveInt('pageIndex', pageIndex);
  requirePositiveInt('pageSize', pageSize);
  return { ...request, pageIndex, pageSize };
}

function checkedRange(request: ReportRequest): ReportRequest {
  for (const field of ['startTimestamp', 'endTimestamp'] as const) {
    const value = request[field];
    if (!Number.isInteger(value) || value < 0) {
      throw youmiError('YOUMI_REQUEST_INVALID', `${field} must be seconds since epoch (integer >= 0), got ${value}`);
    }
  }
  if (request.startTimestamp > request.endTimestamp) {
    throw youmiError('YOUMI_REQUEST_INVALID', 'startTimestamp must not be after endTimestamp');
  }
  return request;
}

function checkTodo(request: AddTodoRequest): void {
  requirePositiveInt('wechatId', request.wechatId);
  requireText('fansKey', request.fansKey);
  requireText('staffCode', request.staffCode);
  requireText('content', request.content);
}

function checkUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw youmiError(
      'YOUMI_REQUEST_INVALID',
      `callback url must be an absolute http(s) URL, got ${JSON.stringify(url)}`,
    );
  }
}
