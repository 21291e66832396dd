import {
  type Agent,
  type AgentsCapability,
  coreError,
  type HttpClient,
  type HttpClientFactory,
  type KefuLogger,
  type KefuProvider,
  type MessagingCapability,
  type OutgoingMessage,
  type ProviderCapability,
  type RecordQueryInput,
  RecordQuerySchema,
  RecordStream,
  type SessionInfo,
  type SessionsCapability,
  silentLogger,
  undiciHttpClientFactory,
} from '@kefu/core';
import { z } from 'zod';
import { YOUMI_PLATFORM } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import { YoumiPageSource } from './record-pages.js';
import { BearerTokenSource, V1Signer, type YoumiAuthenticator } from './youmi-auth.js';
import { YOUMI_PATHS, YoumiClient } from './youmi-client.js';
import { parseYoumiConfig, YOUMI_MAX_PAGE_SIZE, type YoumiConfig, type YoumiConfigInput } from './youmi-config.js';

/** Runtime services of a {@link YoumiProvider}; all optional. */
export interface YoumiProviderOptions {
  /** Instance id (default `youmi`). */
  id?: string;
  /** Where HTTP clients come from (default: core's undici factory). */
  httpClients?: HttpClientFactory;
  logger?: KefuLogger;
  /** The current time (token expiry, clamping a pass's `to`); injectable for tests. */
  now?: () => number;
}

/** Staff per System/GetStaffList request. */
const STAFF_PAGE_SIZE = 100;

/** Type code of image messages sent with doSendPublicMes (seed 002). */
const IMAGE_TYPE = 3;

/**
 * The Youmi provider: records of operating accounts (wechatIds), plus agents (staff),
 * sessions (activation / takeover) and messaging (doSendPublicMes).
 *
 * @example
 * ```ts
 * const youmi = new YoumiProvider({ baseUrl, tokenUrl, clientId, clientSecret, wechatIds: [10001] });
 * youmi.records({ account: '10001', from: '2026-11-01', to: '2026-11-02' }).subscribe((r) => console.log(r.kind, r.text));
 * ```
 */
export class YoumiProvider implements KefuProvider, AgentsCapability, SessionsCapability, MessagingCapability {
  /** Instance id. */
  readonly id: string;
  /** Always `youmi`. */
  readonly platform = YOUMI_PLATFORM;
  /** agents = staff, sessions = activation / takeover, messaging = send. */
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set<ProviderCapability>([
    'agents',
    'sessions',
    'messaging',
  ]);
  /** The validated configuration. */
  readonly config: YoumiConfig;
  /** The typed open-API client, for every call beyond the capabilities. */
  readonly client: YoumiClient;
  readonly #http: HttpClient[] = [];
  readonly #now: () => number;
  readonly #logger: KefuLogger;
  #closing: Promise<void> | undefined;

  /** Validates `config` (YOUMI_CONFIG_INVALID) and prepares clients; nothing is fetched yet. */
  constructor(config: YoumiConfigInput, options: YoumiProviderOptions = {}) {
    this.config = parseYoumiConfig(config);
    this.id = options.id ?? 'youmi';
    this.#now = options.now ?? Date.now;
    const factory = options.httpClients ?? undiciHttpClientFactory;
    const logger = (options.logger ?? silentLogger).child({ provider: this.id });
    this.#logger = logger;
    const { timeouts, retry } = this.config;
    const httpOptions = {
      connectTimeoutMs: timeouts.connectMs,
      headersTimeoutMs: timeouts.headersMs,
      bodyTimeoutMs: timeouts.bodyMs,
      retry,
      logger,
      userAgent: 'kefu-youmi',
    };
    const api = factory.create({ baseUrl: this.config.baseUrl, ...httpOptions });
    this.#http.push(api);
    let auth: YoumiAuthenticator;
    if (this.config.auth === 'v1') {
      const v1 = this.config.v1 as NonNullable<YoumiConfig['v1']>;
      auth = new V1Signer({ http: api, appId: v1.appId, appKey: v1.appKey, tokenPath: v1.tokenPath, now: this.#now });
    } else {
      const tokenUrl = this.config.tokenUrl as string;
      const sso = factory.create({ baseUrl: new URL(tokenUrl).origin, ...httpOptions });
      this.#http.push(sso);
      auth = new BearerTokenSource({
        http: sso,
        tokenUrl,
        clientId: this.config.clientId as string,
        clientSecret: this.config.clientSecret as string,
        ...(this.config.scope ? { scope: this.config.scope } : {}),
        ...(this.config.tenantId ? { tenantId: this.config.tenantId } : {}),
        refreshMarginMs: this.config.tokenRefreshMarginSeconds * 1000,
        now: this.#now,
        logger,
      });
    }
    this.client = new YoumiClient({ http: api, auth, envelope: this.config.auth });
  }

  /** The configured wechatIds, as strings. */
  accounts(): readonly string[] {
    return this.config.wechatIds.map(String);
  }

  /**
   * A cold, resumable stream of one account's chats in `[from, to)`, fan by fan (see
   * record-pages.ts for the order and the checkpoint).
   */
  records(query: RecordQueryInput): RecordStream {
    this.#assertOpen();
    const parsed = RecordQuerySchema.safeParse(query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw coreError(
        'KEFU_QUERY_INVALID',
        `youmi query: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const valid = parsed.data;
    const wechatId = this.#wechatId(valid.account);
    const source = new YoumiPageSource({
      client: this.client,
      wechatId,
      from: valid.from.getTime(),
      to: valid.to.getTime(),
      ...(valid.customer ? { fansKey: valid.customer } : {}),
      // A query may ask for smaller pages, never for pages beyond the platform's cap.
      pageSize: Math.min(valid.pageSize ?? this.config.pageSize, YOUMI_MAX_PAGE_SIZE),
      fanPageSize: this.config.fanPageSize,
      fanConcurrency: this.config.fanConcurrency,
      timeZoneOffsetMinutes: this.config.timeZoneOffsetMinutes,
      now: this.#now,
      logger: this.#logger,
    });
    return new RecordStream({ provider: YOUMI_PLATFORM, account: String(wechatId) }, source, valid.resumeFrom);
  }

  /** Staff members as agents (System staff list); `online` = staff status active. */
  async listAgents(_account?: string): Promise<Agent[]> {
    this.#assertOpen();
    const staff = [];
    for (let pageIndex = 1; ; pageIndex++) {
      const page = await this.client.staffList({ pageIndex, pageSize: STAFF_PAGE_SIZE });
      staff.push(...page);
      if (page.length < STAFF_PAGE_SIZE) break;
    }
    return staff.map((member) => ({
      id: member.staffCode,
      account: member.staffCode,
      name: member.staffName ?? member.staffCode,
      ...(member.avatar ? { avatarUrl: member.avatar } : {}),
      ...(member.status === null || member.status === undefined ? {} : { online: member.status === 1 }),
    }));
  }

  /** Activates a conversation with `customer` (a fansKey) for staff member `agent`. */
  async openSession(request: { account?: string; customer: string; agent: string }): Promise<void> {
    this.#assertOpen();
    await this.client.activateConversation({
      wechatId: this.#wechatId(request.account),
      fansKey: request.customer,
      staffCode: request.agent,
    });
  }

  /** Ends the takeover of `customer`'s conversation. */
  async closeSession(request: { account?: string; customer: string; agent: string }): Promise<void> {
    this.#assertOpen();
    await this.client.terminateTakeOver({ wechatId: this.#wechatId(request.account), fansKey: request.customer });
  }

  /**
   * The staff member a fan is attributed to. Youmi has no session lookup: this scans the
   * fan list (GetFansList) for the fan, so it costs one request per 100 fans.
   */
  async getSession(request: { account?: string; customer: string }): Promise<SessionInfo> {
    this.#assertOpen();
    const wechatId = this.#wechatId(request.account);
    const pageSize = this.config.fanPageSize;
    for (let pageIndex = 1; ; pageIndex++) {
      const fans = await this.client.fansList({ wechatId, pageIndex, pageSize });
      const fan = fans.find((candidate) => candidate.fansKey === request.customer);
      if (fan) {
        return {
          account: String(wechatId),
          customer: fan.fansKey,
          ...(fan.staffCode ? { agent: fan.staffCode } : {}),
        };
      }
      if (fans.length < pageSize) {
        throw youmiError('YOUMI_REQUEST_INVALID', `fan ${request.customer} is not a fan of wechatId ${wechatId}`);
      }
    }
  }

  /** Sends text, an image (by key/URL) or a native doSendPublicMes payload to a fan. */
  async sendMessage(request: {
    account?: string;
    customer: string;
    message: OutgoingMessage;
    agent?: string;
  }): Promise<void> {
    this.#assertOpen();
    const base = {
      wechatId: this.#wechatId(request.account),
      fansKey: request.customer,
      ...(request.agent ? { staffCode: request.agent } : {}),
    };
    const { message } = request;
    if (message.kind === 'text') await this.client.sendMessage({ ...base, content: message.text });
    else if (message.kind === 'image') {
      await this.client.sendMessage({ ...base, content: message.mediaId, messageType: IMAGE_TYPE });
    } else await this.client.call(YOUMI_PATHS.sendMessage, { ...base, ...message.payload }, z.unknown());
  }

  /** Closes the HTTP pools; idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.#http.map((client) => client.close())).then(() => undefined);
    return this.#closing;
  }

  #wechatId(account: string | undefined): number {
    const ids = this.config.wechatIds;
    if (account === undefined) {
      if (ids.length === 1) return ids[0] as number;
      throw youmiError(
        'YOUMI_ACCOUNT_UNKNOWN',
        `name the account: this provider serves several wechatIds (${ids.join(', ')})`,
      );
    }
    const id = Number(account);
    if (!ids.includes(id)) {
      throw youmiError(
        'YOUMI_ACCOUNT_UNKNOWN',
        `wechatId ${account} is not configured (configured: ${ids.join(', ')})`,
      );
    }
    return id;
  }

  #assertOpen(): void {
    if (this.#closing) throw coreError('KEFU_RUNTIME_CLOSED', `youmi provider ${this.id} was closed`);
  }
}
