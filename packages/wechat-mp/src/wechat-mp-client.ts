import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
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
import { TOKEN_ERRCODES, wechatMpError } from './errors.js';
import { decodePlatformResponse, type PlatformResult } from './platform-response.js';
import type { TokenManager } from './token-manager.js';
import {
  ErrorEnvelopeSchema,
  GetRecordRequestSchema,
  GetRecordResponseSchema,
  KfAccountNameSchema,
  KfAccountWriteRequestSchema,
  KfInviteRequestSchema,
  KfListResponseSchema,
  KfOnlineListResponseSchema,
  KfSessionListResponseSchema,
  KfSessionRequestSchema,
  KfSessionResponseSchema,
  KfWaitCaseResponseSchema,
  MsgListRequestSchema,
  MsgListResponseSchema,
  OpenIdSchema,
  SendMessageRequestSchema,
  TypingRequestSchema,
  type WechatOutgoingMessage,
} from './wechat-mp-schemas.js';

/** Largest agent avatar the platform accepts (API-NOTES: ≤ 5 MB). */
export const MAX_AVATAR_BYTES = 5 * 1024 * 1024;

/** Error codes of transport failures: the request may have reached WeChat, so non-idempotent calls do not retry them. */
const TRANSPORT_CODES = new Set(['KEFU_HTTP_NETWORK', 'KEFU_HTTP_TIMEOUT', 'KEFU_HTTP_BAD_BODY', 'KEFU_HTTP_STATUS']);

/** An avatar image: a file path, bytes, or a readable stream. */
export type AvatarSource = string | Uint8Array | Readable;

/** Options of {@link WechatMpClient}. */
export interface WechatMpClientOptions {
  appId: string;
  http: HttpClient;
  tokens: TokenManager;
  retry?: RetryPolicy;
  now?: () => number;
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
  body?: Buffer;
  headers?: Record<string, string>;
  schema: S;
  /** False for calls that must not run twice (sending a message): transport errors are not retried. */
  idempotent?: boolean;
  signal?: AbortSignal | undefined;
  onRetry?: ((retry: ProviderRetry) => void) | undefined;
}

/**
 * The typed WeChat customer-service client of one app id: every call of the Java SDK
 * (seed 003) and seed 001. Requests and responses are validated with zod; platform
 * errcodes become typed errors; -1 and 45011 are retried (back-off / next minute);
 * token errcodes trigger one compare-and-invalidate refresh and a retry.
 */
export class WechatMpClient {
  /** The app id this client calls for. */
  readonly appId: string;
  readonly #http: HttpClient;
  readonly #tokens: TokenManager;
  readonly #retry: RetryPolicy;
  readonly #now: () => number;
  readonly #logger: KefuLogger;

  /** A client for `options.appId`. */
  constructor(options: WechatMpClientOptions) {
    this.appId = options.appId;
    this.#http = options.http;
    this.#tokens = options.tokens;
    this.#retry = options.retry ?? defaultRetryPolicy;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The token manager of this app id. */
  get tokens(): TokenManager {
    return this.#tokens;
  }

  // ---- agents ----

  /** All agents of the account (`getkflist`). */
  async listAgents(options: CallOptions = {}) {
    const { value } = await this.#call({
      name: 'getkflist',
      method: 'GET',
      path: '/cgi-bin/customservice/getkflist',
      schema: KfListResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value.kf_list;
  }

  /** The agents online now, with their accepted case counts (`getonlinekflist`). */
  async listOnlineAgents(options: CallOptions = {}) {
    const { value } = await this.#call({
      name: 'getonlinekflist',
      method: 'GET',
      path: '/cgi-bin/customservice/getonlinekflist',
      schema: KfOnlineListResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value.kf_online_list;
  }

  /** Adds an agent `prefix@oa_wechat_id` with a nickname (≤ 16 chars). */
  async addAgent(agent: { account: string; nickname: string }, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      KfAccountWriteRequestSchema,
      { kf_account: agent.account, nickname: agent.nickname },
      'addAgent',
    );
    await this.#call({
      name: 'kfaccount/add',
      method: 'POST',
      path: '/customservice/kfaccount/add',
      json,
      ...acknowledgement(options),
    });
  }

  /** Changes an agent's nickname. */
  async updateAgent(agent: { account: string; nickname: string }, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      KfAccountWriteRequestSchema,
      { kf_account: agent.account, nickname: agent.nickname },
      'updateAgent',
    );
    await this.#call({
      name: 'kfaccount/update',
      method: 'POST',
      path: '/customservice/kfaccount/update',
      json,
      ...acknowledgement(options),
    });
  }

  /** Invites a WeChat user (by WeChat id) to be bound to an agent account. */
  async inviteAgent(invite: { account: string; inviteWx: string }, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      KfInviteRequestSchema,
      { kf_account: invite.account, invite_wx: invite.inviteWx },
      'inviteAgent',
    );
    await this.#call({
      name: 'kfaccount/inviteworker',
      method: 'POST',
      path: '/customservice/kfaccount/inviteworker',
      json,
      ...acknowledgement(options),
    });
  }

  /** Uploads an agent's avatar (JPEG/PNG ≤ 5 MB) from a path, bytes or a stream; sent as multipart field `media`. */
  async uploadAgentAvatar(
    request: { account: string; image: AvatarSource; fileName?: string; contentType?: string },
    options: CallOptions = {},
  ): Promise<void> {
    const account = validateInput(KfAccountNameSchema, request.account, 'uploadAgentAvatar.account');
    const bytes = await loadAvatar(request.image);
    const fileName = request.fileName ?? (typeof request.image === 'string' ? basename(request.image) : 'avatar.jpg');
    const contentType = request.contentType ?? (/\.png$/i.test(fileName) ? 'image/png' : 'image/jpeg');
    const boundary = `kefu${randomBytes(12).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${fileName.replace(/["\r\n]/g, '_')}"\r\nContent-Type: ${contentType}\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    await this.#call({
      name: 'kfaccount/uploadheadimg',
      method: 'POST',
      path: '/customservice/kfaccount/uploadheadimg',
      query: { kf_account: account },
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      ...acknowledgement(options),
    });
  }

  /**
   * Deletes an agent with `GET /customservice/kfaccount/del?kf_account=` (what WxJava,
   * co-wechat-api and wechat-api send); a platform refusing GET with 43002 "require POST"
   * gets the current doc's form, POST JSON `{kf_account}` (API-NOTES: accept both).
   */
  async deleteAgent(account: string, options: CallOptions = {}): Promise<void> {
    const kfAccount = validateInput(KfAccountNameSchema, account, 'deleteAgent');
    const call = { name: 'kfaccount/del', path: '/customservice/kfaccount/del', ...acknowledgement(options) };
    try {
      await this.#call({ ...call, method: 'GET', query: { kf_account: kfAccount } });
    } catch (error) {
      if (!isKefuError(error) || error.code !== 'WECHAT_43002') throw error;
      await this.#call({ ...call, method: 'POST', json: { kf_account: kfAccount } });
    }
  }

  // ---- sessions ----

  /** Assigns a customer to an agent (the agent must be bound and online; an existing session answers 0). */
  async createSession(session: { account: string; openid: string }, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      KfSessionRequestSchema,
      { kf_account: session.account, openid: session.openid },
      'createSession',
    );
    await this.#call({
      name: 'kfsession/create',
      method: 'POST',
      path: '/customservice/kfsession/create',
      json,
      ...acknowledgement(options),
    });
  }

  /** Closes a customer's session with an agent. */
  async closeSession(session: { account: string; openid: string }, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      KfSessionRequestSchema,
      { kf_account: session.account, openid: session.openid },
      'closeSession',
    );
    await this.#call({
      name: 'kfsession/close',
      method: 'POST',
      path: '/customservice/kfsession/close',
      json,
      ...acknowledgement(options),
    });
  }

  /** The customer's current session: the serving agent (`kf_account`, empty = nobody) and creation time. */
  async getSession(openid: string, options: CallOptions = {}) {
    const id = validateInput(OpenIdSchema, openid, 'getSession.openid');
    const { value } = await this.#call({
      name: 'kfsession/getsession',
      method: 'GET',
      path: '/customservice/kfsession/getsession',
      query: { openid: id },
      schema: KfSessionResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value;
  }

  /** The sessions an agent is serving. */
  async listSessions(account: string, options: CallOptions = {}) {
    const kfAccount = validateInput(KfAccountNameSchema, account, 'listSessions.account');
    const { value } = await this.#call({
      name: 'kfsession/getsessionlist',
      method: 'GET',
      path: '/customservice/kfsession/getsessionlist',
      query: { kf_account: kfAccount },
      schema: KfSessionListResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value.sessionlist;
  }

  /** The customers waiting for an agent (at most 100, oldest first). */
  async getWaitQueue(options: CallOptions = {}) {
    const { value } = await this.#call({
      name: 'kfsession/getwaitcase',
      method: 'GET',
      path: '/customservice/kfsession/getwaitcase',
      schema: KfWaitCaseResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return { count: value.count, waiting: value.waitcaselist };
  }

  // ---- messages ----

  /**
   * Sends a customer-service message, optionally as a given agent, and returns the
   * platform's answer (the Java SDK's `sendKefuMessageWithResponse`). Not retried after a
   * transport error, since the message may have been delivered (no double send).
   */
  async sendMessage(
    request: { openid: string; message: WechatOutgoingMessage; asAgent?: string },
    options: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    const json = validateInput(
      SendMessageRequestSchema,
      {
        touser: request.openid,
        ...request.message,
        ...(request.asAgent ? { customservice: { kf_account: request.asAgent } } : {}),
      },
      'sendMessage',
    );
    const { value } = await this.#call({
      name: 'message/custom/send',
      method: 'POST',
      path: '/cgi-bin/message/custom/send',
      json,
      idempotent: false,
      ...acknowledgement(options),
    });
    return value;
  }

  /** Shows (`true`) or hides (`false`) the typing indicator to a customer (needs an exchange in the last 30 s). */
  async setTyping(openid: string, typing: boolean, options: CallOptions = {}): Promise<void> {
    const json = validateInput(
      TypingRequestSchema,
      { touser: openid, command: typing ? 'Typing' : 'CancelTyping' },
      'setTyping',
    );
    await this.#call({
      name: 'message/custom/typing',
      method: 'POST',
      path: '/cgi-bin/message/custom/typing',
      json,
      ...acknowledgement(options),
    });
  }

  // ---- records (raw pages; records() in the provider streams them) ----

  /** One page of `msgrecord/getmsglist` (window ≤ 24 h, `number` ≤ 10 000, `msgid` the cursor). */
  async getMsgList(request: z.input<typeof MsgListRequestSchema>, options: CallOptions = {}) {
    const json = validateInput(MsgListRequestSchema, request, 'getMsgList');
    const { value } = await this.#call({
      name: 'msgrecord/getmsglist',
      method: 'POST',
      path: '/customservice/msgrecord/getmsglist',
      json,
      schema: MsgListResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value;
  }

  /** One page of the 2015 `msgrecord/getrecord` (pagesize ≤ 50) or the legacy `cgi-bin/customservice/getrecord` (≤ 1000, one day). */
  async getRecordPage(
    api: '2015' | 'legacy',
    request: z.input<typeof GetRecordRequestSchema>,
    options: CallOptions = {},
  ) {
    const json = validateInput(GetRecordRequestSchema, request, 'getRecordPage');
    const maxPageSize = api === '2015' ? 50 : 1000;
    if (json.pagesize > maxPageSize) {
      throw wechatMpError(
        'WECHAT_INVALID_REQUEST',
        `getRecordPage: pagesize ${json.pagesize} exceeds ${maxPageSize} for the ${api} API`,
      );
    }
    const { value } = await this.#call({
      name: api === '2015' ? 'msgrecord/getrecord' : 'customservice/getrecord',
      method: 'POST',
      path: api === '2015' ? '/customservice/msgrecord/getrecord' : '/cgi-bin/customservice/getrecord',
      json,
      schema: GetRecordResponseSchema,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    return value;
  }

  // ---- the one place requests are sent ----

  async #call<S extends z.ZodType>(spec: CallSpec<S>): Promise<{ value: z.output<S>; raw: unknown }> {
    return retryWithBackoff(() => this.#attempt(spec), {
      policy: this.#retry,
      ...(spec.signal ? { signal: spec.signal } : {}),
      isRetryable: (error) =>
        isKefuError(error) && error.retryable && (spec.idempotent !== false || !TRANSPORT_CODES.has(error.code)),
      onRetry: ({ attempt, delayMs, error }) => {
        this.#logger.warn('wechat call retried', {
          appId: this.appId,
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
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    };
    const response = await this.#http.request(request);
    return decodePlatformResponse(response, spec.schema, { call: spec.name, appId: this.appId, now: this.#now() });
  }
}

/** The schema and signal of calls answering only `{errcode, errmsg}` (an acknowledgement). */
function acknowledgement(options: CallOptions) {
  return { schema: ErrorEnvelopeSchema, signal: options.signal, onRetry: options.onRetry };
}

/** Validates caller input, failing with WECHAT_INVALID_REQUEST naming the field. */
function validateInput<S extends z.ZodType>(schema: S, input: unknown, call: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw wechatMpError('WECHAT_INVALID_REQUEST', `${call}: ${formatZodIssue(issue, 'value')}`, {
    details: {
      call,
      issues: zodIssueList(result.error),
    },
  });
}

async function loadAvatar(image: AvatarSource): Promise<Buffer> {
  const tooLarge = (size: number | string) =>
    wechatMpError(
      'WECHAT_AVATAR_TOO_LARGE',
      `uploadAgentAvatar: the image is ${size} bytes, more than ${MAX_AVATAR_BYTES}`,
    );
  if (typeof image === 'string') {
    const info = await stat(image).catch((error: unknown) => {
      throw wechatMpError(
        'WECHAT_INVALID_REQUEST',
        `uploadAgentAvatar: cannot read ${image}: ${(error as Error).message}`,
      );
    });
    if (info.size > MAX_AVATAR_BYTES) throw tooLarge(info.size);
    return readFile(image);
  }
  if (image instanceof Readable) {
    const bytes = await readAll(image, MAX_AVATAR_BYTES);
    if (!bytes) throw tooLarge(`more than ${MAX_AVATAR_BYTES}`);
    return bytes;
  }
  if (image.byteLength > MAX_AVATAR_BYTES) throw tooLarge(image.byteLength);
  return Buffer.from(image);
}

/** Reads a stream fully, or returns undefined once it exceeds `limit` bytes. */
async function readAll(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
