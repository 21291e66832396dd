import {
  type Agent,
  type AgentsCapability,
  coreError,
  createConfiguredTokenStore,
  type DownloadedMedia,
  firstZodIssue,
  type HttpClient,
  type HttpClientFactory,
  type KefuLogger,
  KefuProviderBase,
  type MessagingCapability,
  type OutgoingMessage,
  type ProviderBaseOptions,
  type ProviderCapability,
  type ProviderRecordSource,
  type PushReceiver,
  type RecordQuery,
  registerSecret,
  type SessionInfo,
  type SessionsCapability,
  silentLogger,
  undiciHttpClientFactory,
} from '@kefu/core';
import { wechatMpError } from './errors.js';
import { downloadWechatMedia } from './media-download.js';
import { WechatPushReceiver } from './push-receiver.js';
import { WECHAT_MP_PLATFORM } from './record-normalizer.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MIN_PAGE_SIZE,
  MsgIdPageSource,
  PageIndexPageSource,
  type RecordWindowQuery,
} from './record-pages.js';
import { TokenManager } from './token-manager.js';
import type { TokenStore } from './token-stores.js';
import { WechatMpClient } from './wechat-mp-client.js';
import { parseWechatMpConfig, type WechatMpConfig, type WechatMpConfigInput } from './wechat-mp-config.js';
import { type WechatOutgoingMessage, WechatOutgoingMessageSchema } from './wechat-mp-schemas.js';

/** Runtime dependencies of {@link WechatMpProvider}, all optional. */
export interface WechatMpProviderOptions extends ProviderBaseOptions {
  /** Instance id (default `wechat-mp`). */
  id?: string;
  /** Where HTTP clients come from (default: core's undici client). */
  httpClients?: HttpClientFactory;
  logger?: KefuLogger;
  /** Clock for token expiry and the 45011 wait (default Date.now). */
  now?: () => number;
  /** A token store of your own (Redis, a central token service); overrides `config.tokenStore`. */
  tokenStore?: TokenStore;
  /** Base directory for a relative `tokenStore.path` (default the working directory). */
  baseDir?: string;
}

/**
 * The WeChat Official Account customer-service provider: records of every configured
 * app id, plus the agents, sessions and messaging capabilities. `client(appId)` exposes
 * the complete typed API of one account.
 */
export class WechatMpProvider
  extends KefuProviderBase
  implements AgentsCapability, SessionsCapability, MessagingCapability
{
  /** Instance id. */
  readonly id: string;
  /** Always `wechat-mp`. */
  readonly platform = WECHAT_MP_PLATFORM;
  /** agents, sessions, messaging. */
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set<ProviderCapability>([
    'agents',
    'sessions',
    'messaging',
  ]);
  /** The validated configuration. */
  readonly config: WechatMpConfig;
  readonly #http: HttpClient;
  readonly #clients = new Map<string, WechatMpClient>();
  readonly #pushReceivers: readonly PushReceiver[];

  /** A provider for the accounts of `config` (validated; WECHAT_CONFIG_INVALID names a bad field). */
  constructor(config: WechatMpConfigInput, options: WechatMpProviderOptions = {}) {
    super(options);
    this.config = parseWechatMpConfig(config);
    this.id = options.id ?? WECHAT_MP_PLATFORM;
    const logger = (options.logger ?? silentLogger).child({ provider: this.id });
    const now = options.now ?? Date.now;
    for (const account of this.config.accounts) registerSecret(account.secret);
    // Built now: the push tokens and keys are registered as secrets and a bad key fails at start-up.
    this.#pushReceivers = this.config.accounts.flatMap((account) =>
      account.push ? [new WechatPushReceiver({ appId: account.appId, ...account.push, now })] : [],
    );
    this.#http = (options.httpClients ?? undiciHttpClientFactory).create({
      baseUrl: this.config.baseUrl,
      connectTimeoutMs: this.config.timeouts.connectMs,
      headersTimeoutMs: this.config.timeouts.requestMs,
      bodyTimeoutMs: this.config.timeouts.requestMs,
      // The WeChat client retries (one place, errcode-aware): the transport must not.
      retry: false,
      logger,
    });
    const store = options.tokenStore ?? createConfiguredTokenStore(this.config.tokenStore, options.baseDir);
    const retry = { ...this.config.retry, jitter: 1 };
    for (const account of this.config.accounts) {
      const tokens = new TokenManager({
        appId: account.appId,
        secret: account.secret,
        http: this.#http,
        store,
        endpoint: this.config.tokenEndpoint,
        refreshMarginMs: this.config.refreshMarginMs,
        now,
        logger,
      });
      this.#clients.set(
        account.appId,
        new WechatMpClient({ appId: account.appId, http: this.#http, tokens, retry, now, logger }),
      );
    }
  }

  /** The push receivers of the accounts with a `push` block (served by `kefu serve`). */
  pushReceivers(): readonly PushReceiver[] {
    return this.#pushReceivers;
  }

  /** Downloads a pushed medium (`MediaId`, valid 3 days) of `appId` with `media/get`. */
  downloadMedia(appId: string, mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    return downloadWechatMedia({
      http: this.#http,
      tokens: this.client(appId).tokens,
      appId,
      mediaId,
      ...(signal ? { signal } : {}),
    });
  }

  /** The configured app ids. */
  accounts(): readonly string[] {
    return [...this.#clients.keys()];
  }

  /** The typed client of one app id (the only one when omitted). */
  client(appId?: string): WechatMpClient {
    this.assertOpen();
    const id = appId ?? this.#singleAccount();
    const client = this.#clients.get(id);
    if (!client) {
      throw wechatMpError(
        'WECHAT_UNKNOWN_ACCOUNT',
        `wechat-mp has no account ${id}; configured: ${this.accounts().join(', ')}`,
      );
    }
    return client;
  }

  /**
   * The pages of one account's records in `[from, to)`, read day by day (Beijing time)
   * with the configured record API (`records(query)` wraps them in a resumable stream).
   */
  protected recordSource(query: RecordQuery): ProviderRecordSource {
    const { from, to, customer, pageSize } = query;
    const appId = query.account ?? this.#singleAccount();
    if (!this.#clients.has(appId)) {
      throw coreError(
        'KEFU_QUERY_INVALID',
        `wechat-mp records: account ${appId} is not configured; use one of ${this.accounts().join(', ')}`,
      );
    }
    const client = this.client(appId);
    const api = this.config.recordApi;
    const windowQuery: RecordWindowQuery = {
      appId,
      // Records carry whole seconds: [from, to) in ms covers seconds [ceil(from), ceil(to)).
      from: Math.ceil(from.getTime() / 1000),
      to: Math.ceil(to.getTime() / 1000),
      customer,
      pageSize: Math.max(
        MIN_PAGE_SIZE[api],
        Math.min(pageSize ?? this.config.pageSize ?? DEFAULT_PAGE_SIZE[api], MAX_PAGE_SIZE[api]),
      ),
    };
    const source =
      api === 'msglist' ? new MsgIdPageSource(client, windowQuery) : new PageIndexPageSource(client, api, windowQuery);
    return { key: { provider: WECHAT_MP_PLATFORM, account: appId }, source };
  }

  /** Agents with their online state and active sessions (`getkflist` + `getonlinekflist`). */
  async listAgents(account?: string): Promise<Agent[]> {
    const client = this.client(account);
    const [agents, online] = await Promise.all([client.listAgents(), client.listOnlineAgents()]);
    const onlineByAccount = new Map(online.map((entry) => [entry.kf_account, entry]));
    return agents.map((agent) => {
      const live = onlineByAccount.get(agent.kf_account);
      return {
        id: agent.kf_account,
        account: client.appId,
        name: agent.kf_nick,
        ...(agent.kf_headimgurl ? { avatarUrl: agent.kf_headimgurl } : {}),
        online: live !== undefined,
        activeSessions: live?.accepted_case ?? 0,
      };
    });
  }

  /** Assigns `customer` to `agent`. */
  async openSession(request: { account?: string; customer: string; agent: string }): Promise<void> {
    await this.client(request.account).createSession({ account: request.agent, openid: request.customer });
  }

  /** Ends the session of `customer` with `agent`. */
  async closeSession(request: { account?: string; customer: string; agent: string }): Promise<void> {
    await this.client(request.account).closeSession({ account: request.agent, openid: request.customer });
  }

  /** Who serves `customer` now (no `agent` = nobody). */
  async getSession(request: { account?: string; customer: string }): Promise<SessionInfo> {
    const client = this.client(request.account);
    const session = await client.getSession(request.customer);
    return {
      account: client.appId,
      customer: request.customer,
      ...(session.kf_account ? { agent: session.kf_account } : {}),
      ...(session.kf_account && session.createtime
        ? { createdAt: new Date(session.createtime * 1000).toISOString() }
        : {}),
    };
  }

  /** Sends a message; `platform` payloads must be one WeChat message (`{msgtype, <msgtype>: {…}}`). */
  async sendMessage(request: {
    account?: string;
    customer: string;
    message: OutgoingMessage;
    agent?: string;
  }): Promise<void> {
    await this.client(request.account).sendMessage({
      openid: request.customer,
      message: toWechatMessage(request.message),
      ...(request.agent ? { asAgent: request.agent } : {}),
    });
  }

  /** Closes the HTTP pool (once: `close()` is idempotent). */
  protected release(): Promise<void> {
    return this.#http.close();
  }

  #singleAccount(): string {
    const accounts = this.accounts();
    if (accounts.length === 1) return accounts[0] as string;
    throw coreError(
      'KEFU_QUERY_INVALID',
      `wechat-mp serves ${accounts.length} accounts (${accounts.join(', ')}): name one with \`account\``,
    );
  }
}

/** Maps the generic message subset to a WeChat message. */
export function toWechatMessage(message: OutgoingMessage): WechatOutgoingMessage {
  if (message.kind === 'text') return { msgtype: 'text', text: { content: message.text } };
  if (message.kind === 'image') return { msgtype: 'image', image: { media_id: message.mediaId } };
  const parsed = WechatOutgoingMessageSchema.safeParse(message.payload);
  if (!parsed.success) {
    throw wechatMpError(
      'WECHAT_INVALID_REQUEST',
      `sendMessage: a platform payload must be a WeChat message {msgtype, <msgtype>: {…}}: ${firstZodIssue(parsed.error)}`,
    );
  }
  return parsed.data;
}
