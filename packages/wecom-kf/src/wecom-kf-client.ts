import {
  callWithAccessToken,
  defaultRetryPolicy,
  formatZodIssue,
  type HttpClient,
  type HttpRequest,
  isKefuError,
  type KefuLogger,
  type PlatformCallOptions,
  type ProviderRetry,
  type RetryPolicy,
  retryWithBackoff,
  silentLogger,
  zodIssueList,
} from '@kefu/core';
import type { z } from 'zod';
import { TOKEN_ERRCODES, wecomKfError } from './errors.js';
import { decodePlatformResponse, type PlatformResult } from './platform-response.js';
import type { WecomTokenManager } from './token-manager.js';
import {
  AccountAddRequestSchema,
  AccountAddResponseSchema,
  AccountListRequestSchema,
  AccountListResponseSchema,
  AccountUpdateRequestSchema,
  AddContactWayRequestSchema,
  AddContactWayResponseSchema,
  CorpStatisticRequestSchema,
  CustomerBatchGetRequestSchema,
  CustomerBatchGetResponseSchema,
  ErrorEnvelopeSchema,
  OpenKfIdSchema,
  SendMsgOnEventRequestSchema,
  SendMsgRequestSchema,
  SendMsgResponseSchema,
  ServicerChangeRequestSchema,
  ServicerChangeResponseSchema,
  ServicerListResponseSchema,
  ServicerStatisticRequestSchema,
  ServiceStateGetRequestSchema,
  ServiceStateGetResponseSchema,
  ServiceStateTransRequestSchema,
  ServiceStateTransResponseSchema,
  StatisticResponseSchema,
  SyncMsgRequestSchema,
  SyncMsgResponseSchema,
} from './wecom-kf-schemas.js';

/** Error codes of transport failures: the request may have reached WeCom, so non-idempotent calls do not retry them. */
const TRANSPORT_CODES = new Set(['KEFU_HTTP_NETWORK', 'KEFU_HTTP_TIMEOUT', 'KEFU_HTTP_BAD_BODY', 'KEFU_HTTP_STATUS']);

/** Options of {@link WecomKfClient}. */
export interface WecomKfClientOptions {
  corpId: string;
  http: HttpClient;
  tokens: WecomTokenManager;
  retry?: RetryPolicy;
  logger?: KefuLogger;
}

/** Per-call options: core's `PlatformCallOptions` (`{ signal, onRetry }`), the same for every platform client. */
export type CallOptions = PlatformCallOptions;

interface CallSpec<S extends z.ZodType> {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  schema: S;
  /** False for calls that must not run twice (sending a message): transport errors are not retried. */
  idempotent?: boolean;
  signal?: AbortSignal | undefined;
  onRetry?: ((retry: ProviderRetry) => void) | undefined;
}

/**
 * The typed WeCom customer-service (kf) client of one app: every call of wecom-kf.md §3 and
 * §6, `(input, { signal, onRetry })` like the other clients. Requests and responses are
 * validated with zod; errcodes become typed errors (WECOM_<errcode>); -1 and transport
 * failures are retried with back-off; 40001/40014/42001 trigger one compare-and-invalidate
 * token refresh and a retry.
 */
export class WecomKfClient {
  /** The corp this client calls for. */
  readonly corpId: string;
  readonly #http: HttpClient;
  readonly #tokens: WecomTokenManager;
  readonly #retry: RetryPolicy;
  readonly #logger: KefuLogger;

  /** A client for the app behind `options.tokens`. */
  constructor(options: WecomKfClientOptions) {
    this.corpId = options.corpId;
    this.#http = options.http;
    this.#tokens = options.tokens;
    this.#retry = options.retry ?? defaultRetryPolicy;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The token manager of this app. */
  get tokens(): WecomTokenManager {
    return this.#tokens;
  }

  // ---- records ----

  /** One page of `kf/sync_msg` (limit ≤ 1000; `has_more` decides whether to go on, not an empty list). */
  async syncMsg(request: z.input<typeof SyncMsgRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(SyncMsgRequestSchema, request, 'syncMsg');
    return (await this.#post('kf/sync_msg', json, SyncMsgResponseSchema, options)).value;
  }

  // ---- customer-service accounts ----

  /** Creates a customer-service account (name ≤ 16 characters, avatar media_id); returns its open_kfid. */
  async addAccount(request: z.input<typeof AccountAddRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(AccountAddRequestSchema, request, 'addAccount');
    const { value } = await this.#post('kf/account/add', json, AccountAddResponseSchema, options, false);
    return value.open_kfid;
  }

  /** Deletes a customer-service account. */
  async deleteAccount(openKfId: string, options: CallOptions = {}): Promise<void> {
    const open_kfid = validateInput(OpenKfIdSchema, openKfId, 'deleteAccount');
    await this.#post('kf/account/del', { open_kfid }, ErrorEnvelopeSchema, options);
  }

  /** Renames an account or changes its avatar. */
  async updateAccount(request: z.input<typeof AccountUpdateRequestSchema>, options: CallOptions = {}): Promise<void> {
    const json = validateInput(AccountUpdateRequestSchema, request, 'updateAccount');
    await this.#post('kf/account/update', json, ErrorEnvelopeSchema, options);
  }

  /** One page of accounts (`kf/account/list`, POST `{offset, limit ≤ 100}`, A11). */
  async listAccounts(request: z.input<typeof AccountListRequestSchema> = {}, options: CallOptions = {}) {
    const json = validateInput(AccountListRequestSchema, request, 'listAccounts');
    return (await this.#post('kf/account/list', json, AccountListResponseSchema, options)).value.account_list;
  }

  /** Every account, page by page (a page shorter than the limit is the last). */
  async listAllAccounts(options: CallOptions = {}) {
    const all = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.listAccounts({ offset, limit: 100 }, options);
      all.push(...page);
      if (page.length < 100) return all;
    }
  }

  /** The contact link of an account (`kf/add_contact_way`); `scene` comes back in enter_session. */
  async addContactWay(request: z.input<typeof AddContactWayRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(AddContactWayRequestSchema, request, 'addContactWay');
    return (await this.#post('kf/add_contact_way', json, AddContactWayResponseSchema, options)).value.url;
  }

  // ---- servicers ----

  /** Adds servicers (users and/or departments, ≤ 100 each); one result per entry. */
  async addServicers(request: z.input<typeof ServicerChangeRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(ServicerChangeRequestSchema, request, 'addServicers');
    return (await this.#post('kf/servicer/add', json, ServicerChangeResponseSchema, options)).value.result_list;
  }

  /** Removes servicers; one result per entry. */
  async removeServicers(request: z.input<typeof ServicerChangeRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(ServicerChangeRequestSchema, request, 'removeServicers');
    return (await this.#post('kf/servicer/del', json, ServicerChangeResponseSchema, options)).value.result_list;
  }

  /** The servicers of an account (`GET kf/servicer/list`; status 0 on duty / 1 stopped). */
  async listServicers(openKfId: string, options: CallOptions = {}) {
    const open_kfid = validateInput(OpenKfIdSchema, openKfId, 'listServicers');
    const { value } = await this.#call({
      name: 'kf/servicer/list',
      method: 'GET',
      path: '/cgi-bin/kf/servicer/list',
      query: { open_kfid },
      schema: ServicerListResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value.servicer_list;
  }

  // ---- sessions ----

  /** The session state of a customer (0–4) and its servicer in state 3. */
  async getServiceState(request: z.input<typeof ServiceStateGetRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(ServiceStateGetRequestSchema, request, 'getServiceState');
    return (await this.#post('kf/service_state/get', json, ServiceStateGetResponseSchema, options)).value;
  }

  /** Moves a session to state 1, 2 or 3 (state 3 needs a servicer); returns the msg_code for send_msg_on_event. */
  async transServiceState(request: z.input<typeof ServiceStateTransRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(ServiceStateTransRequestSchema, request, 'transServiceState');
    const { value } = await this.#post('kf/service_state/trans', json, ServiceStateTransResponseSchema, options, false);
    return value.msg_code;
  }

  // ---- messages ----

  /**
   * Sends a message (`kf/send_msg`; sessions in state 0/1, within 48 h, ≤ 5 per customer
   * message) and returns the platform's answer with its msgid. Not retried after a transport
   * error: the message may have been sent. Success is not delivery (watch msg_send_fail).
   */
  async sendMessage(request: z.input<typeof SendMsgRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(SendMsgRequestSchema, request, 'sendMessage');
    return (await this.#post('kf/send_msg', json, SendMsgResponseSchema, options, false)).value;
  }

  /** Sends the one message an event code allows (welcome, queue, accept, end; `kf/send_msg_on_event`). */
  async sendMessageOnEvent(request: z.input<typeof SendMsgOnEventRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(SendMsgOnEventRequestSchema, request, 'sendMessageOnEvent');
    return (await this.#post('kf/send_msg_on_event', json, SendMsgResponseSchema, options, false)).value;
  }

  // ---- customers and statistics ----

  /** Customer profiles (`kf/customer/batchget`); unknown ids come back in `invalid_external_userid`. */
  async batchGetCustomers(request: z.input<typeof CustomerBatchGetRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(CustomerBatchGetRequestSchema, request, 'batchGetCustomers');
    return (await this.#post('kf/customer/batchget', json, CustomerBatchGetResponseSchema, options)).value;
  }

  /** Daily statistics of the corp or one account (≤ 31 days, within 180 days, yesterday at the latest). */
  async getCorpStatistic(request: z.input<typeof CorpStatisticRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(CorpStatisticRequestSchema, request, 'getCorpStatistic');
    return (await this.#post('kf/get_corp_statistic', json, StatisticResponseSchema, options)).value.statistic_list;
  }

  /** Daily statistics per servicer. */
  async getServicerStatistic(request: z.input<typeof ServicerStatisticRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(ServicerStatisticRequestSchema, request, 'getServicerStatistic');
    const { value } = await this.#post('kf/get_servicer_statistic', json, StatisticResponseSchema, options);
    return value.statistic_list;
  }

  // ---- the one place requests are sent ----

  #post<S extends z.ZodType>(path: string, json: unknown, schema: S, options: CallOptions, idempotent = true) {
    return this.#call({
      name: path,
      method: 'POST',
      path: `/cgi-bin/${path}`,
      json,
      schema,
      idempotent,
      signal: options.signal,
      onRetry: options.onRetry,
    });
  }

  async #call<S extends z.ZodType>(spec: CallSpec<S>): Promise<{ value: z.output<S>; raw: unknown }> {
    return retryWithBackoff(() => this.#attempt(spec), {
      policy: this.#retry,
      ...(spec.signal ? { signal: spec.signal } : {}),
      isRetryable: (error) =>
        isKefuError(error) && error.retryable && (spec.idempotent !== false || !TRANSPORT_CODES.has(error.code)),
      onRetry: ({ attempt, delayMs, error }) => {
        this.#logger.warn('wecom call retried', {
          corpId: this.corpId,
          call: spec.name,
          attempt,
          delayMs,
          code: isKefuError(error) ? error.code : undefined,
        });
        spec.onRetry?.({ attempt, delayMs, error });
      },
    });
  }

  async #attempt<S extends z.ZodType>(spec: CallSpec<S>): Promise<{ value: z.output<S>; raw: unknown }> {
    const result = await callWithAccessToken(
      this.#tokens,
      (token) => this.#send(spec, token),
      (answer) => !answer.ok && TOKEN_ERRCODES.has(answer.errcode),
      spec.signal,
    );
    if (!result.ok) throw result.error;
    return { value: result.value, raw: result.raw };
  }

  async #send<S extends z.ZodType>(spec: CallSpec<S>, token: string): Promise<PlatformResult<z.output<S>>> {
    const request: HttpRequest = {
      method: spec.method,
      path: spec.path,
      query: { ...(spec.query ?? {}), access_token: token },
      retry: false,
      ...(spec.json !== undefined ? { json: spec.json } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    };
    const response = await this.#http.request(request);
    return decodePlatformResponse(response, spec.schema, { call: spec.name, corpId: this.corpId });
  }
}

/** Validates caller input, failing with WECOM_INVALID_REQUEST naming the field. */
export function validateInput<S extends z.ZodType>(schema: S, input: unknown, call: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw wecomKfError('WECOM_INVALID_REQUEST', `${call}: ${formatZodIssue(result.error.issues[0], 'value')}`, {
    details: { call, issues: zodIssueList(result.error) },
  });
}
