import {
  type Agent,
  type AgentsCapability,
  type HttpClient,
  type HttpClientFactory,
  type KefuLogger,
  KefuProviderBase,
  type MessagingCapability,
  type OutgoingMessage,
  type ProviderBaseOptions,
  type ProviderCapability,
  type ProviderRecordSource,
  type RecordQuery,
  silentLogger,
  undiciHttpClientFactory,
} from '@kefu/core';
import { YOUMI_PLATFORM } from './chat-normalizer.js';
import { youmiError } from './errors.js';
import { YoumiPageSource } from './record-pages.js';
import { BearerTokenSource, requestMerchantToken, V1Signer } from './youmi-auth.js';
import { YoumiCaller, YoumiClient, YoumiV1Client } from './youmi-client.js';
import { parseYoumiConfig, YOUMI_MAX_PAGE_SIZE, type YoumiConfig, type YoumiConfigInput } from './youmi-config.js';
import { firstText, STAFF_CODE_FIELDS, STAFF_NAME_FIELDS, type YoumiTokenResponse } from './youmi-schemas.js';

/** Runtime services of a {@link YoumiProvider}; all optional. */
export interface YoumiProviderOptions extends ProviderBaseOptions {
  /** Instance id (default `youmi`). */
  id?: string;
  /** Where HTTP clients come from (default: core's undici factory). */
  httpClients?: HttpClientFactory;
  logger?: KefuLogger;
  /** The current time (token expiry, clamping a pass's `to`); injectable for tests. */
  now?: () => number;
}

/**
 * The Youmi provider: records of operating accounts (wechatIds), plus agents (staff) and
 * messaging (doSendPublicMes). `client` has every v2 call, `v1` every v1 call (with `v1`
 * credentials). There is no `sessions` capability: ending a takeover (终止接管) was not
 * documented readably, and Youmi has no session lookup.
 *
 * @example
 * ```ts
 * const youmi = new YoumiProvider({ baseUrl, clientId, clientSecret, wechatIds: [10001] });
 * youmi.records({ account: '10001', from: '2026-11-01', to: '2026-11-02' }).subscribe((r) => console.log(r.kind, r.text));
 * ```
 */
export class YoumiProvider extends KefuProviderBase implements AgentsCapability, MessagingCapability {
  /** Instance id. */
  readonly id: string;
  /** Always `youmi`. */
  readonly platform = YOUMI_PLATFORM;
  /** agents = staff, messaging = doSendPublicMes. */
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set<ProviderCapability>(['agents', 'messaging']);
  /** The validated configuration. */
  readonly config: YoumiConfig;
  /** The typed v2 client, for every call beyond the capabilities. */
  readonly client: YoumiClient;
  /** The typed v1 client, when `v1` credentials are configured. */
  readonly v1: YoumiV1Client | undefined;
  readonly #http: HttpClient[] = [];
  readonly #tokenHttp: HttpClient;
  readonly #now: () => number;
  readonly #logger: KefuLogger;

  /** Validates `config` (YOUMI_CONFIG_INVALID) and prepares clients; nothing is fetched yet. */
  constructor(config: YoumiConfigInput, options: YoumiProviderOptions = {}) {
    super(options);
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
    const client = (baseUrl: string) => {
      const created = factory.create({ baseUrl, ...httpOptions });
      this.#http.push(created);
      return created;
    };
    const api = client(this.config.baseUrl);
    // The token host is another origin in production (sso.yunshouzhi.net).
    this.#tokenHttp = client(new URL(this.config.tokenUrl).origin);
    const auth = new BearerTokenSource({
      http: this.#tokenHttp,
      tokenUrl: this.config.tokenUrl,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      scope: this.config.scope,
      ...(this.config.tenantId ? { tenantId: this.config.tenantId } : {}),
      refreshMarginMs: this.config.tokenRefreshMarginSeconds * 1000,
      now: this.#now,
      logger,
    });
    this.client = new YoumiClient(new YoumiCaller({ http: api, auth, generation: 'v2', retry }));
    const v1 = this.config.v1;
    if (v1) {
      // The docs put the v1 token call and the data calls on different ports (5001 / 5003).
      const signer = new V1Signer({
        http: client(new URL(v1.tokenUrl).origin),
        appId: v1.appId,
        appKey: v1.appKey,
        tokenUrl: v1.tokenUrl,
        now: this.#now,
        refreshMarginMs: this.config.tokenRefreshMarginSeconds * 1000,
        timeZoneOffsetMinutes: this.config.timeZoneOffsetMinutes,
      });
      this.v1 = new YoumiV1Client(new YoumiCaller({ http: client(v1.baseUrl), auth: signer, generation: 'v1', retry }));
    } else this.v1 = undefined;
  }

  /** The configured wechatIds, as strings. */
  accounts(): readonly string[] {
    return this.config.wechatIds.map(String);
  }

  /**
   * The pages of one account's chats in `[from, to)`, fan by fan (see record-pages.ts and
   * docs/providers/youmi.md for the order, the per-fan cursors and the checkpoint);
   * `records(query)` wraps them in a resumable stream.
   */
  protected recordSource(valid: RecordQuery): ProviderRecordSource {
    const wechatId = this.#wechatId(valid.account);
    const source = new YoumiPageSource({
      client: this.client,
      wechatId,
      from: valid.from.getTime(),
      to: valid.to.getTime(),
      ...(valid.customer ? { fansKey: valid.customer } : {}),
      // A query may ask for smaller pages, never for pages beyond the configured cap.
      pageSize: Math.min(valid.pageSize ?? this.config.pageSize, this.config.pageSize, YOUMI_MAX_PAGE_SIZE),
      fanPageSize: this.config.fanPageSize,
      fanConcurrency: this.config.fanConcurrency,
      ...(this.config.fanKeyField ? { fanKeyField: this.config.fanKeyField } : {}),
      timeZoneOffsetMinutes: this.config.timeZoneOffsetMinutes,
      now: this.#now,
      logger: this.#logger,
    });
    return { key: { provider: YOUMI_PLATFORM, account: String(wechatId) }, source };
  }

  /**
   * `kefu doctor`'s probe: a documented call per account with no side effect, GetFansCount
   * (§2.4). It proves the token call, the base URL and that each wechatId is served.
   */
  async check(): Promise<void> {
    this.assertOpen();
    for (const wechatId of this.config.wechatIds) await this.client.fansCount({ wechatId });
  }

  /** 获取商户TOKEN (§1.1): a fresh token answer for the configured client, as sent (agents hand it on). */
  merchantToken(signal?: AbortSignal): Promise<YoumiTokenResponse> {
    this.assertOpen();
    return requestMerchantToken({
      http: this.#tokenHttp,
      tokenUrl: this.config.tokenUrl,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      scope: this.config.scope,
      ...(signal ? { signal } : {}),
    });
  }

  /** Staff members as agents (System GetStaffList, every department and state; the rows were not seen). */
  async listAgents(_account?: string): Promise<Agent[]> {
    this.assertOpen();
    const rows = await this.client.staffList({ departId: -1, departGroupId: -1, staffState: 1 });
    return rows.map((row) => {
      const code = firstText(row, STAFF_CODE_FIELDS);
      if (!code) {
        throw youmiError(
          'YOUMI_BAD_ENVELOPE',
          `a GetStaffList row has no staff code in ${STAFF_CODE_FIELDS.join(', ')} (fields seen: ${Object.keys(row).join(', ') || 'none'})`,
          { details: { path: '/v2/System/GetStaffList', fields: Object.keys(row) } },
        );
      }
      return { id: code, account: code, name: firstText(row, STAFF_NAME_FIELDS) ?? code };
    });
  }

  /** Sends text, an image (`mediaId` = its URL) or a native doSendPublicMes payload (PascalCase) to a fan. */
  async sendMessage(request: {
    account?: string;
    customer: string;
    message: OutgoingMessage;
    agent?: string;
  }): Promise<void> {
    this.assertOpen();
    const base = { wechatId: this.#wechatId(request.account), toUserName: request.customer };
    const { message } = request;
    if (message.kind === 'text') await this.client.sendMessage({ ...base, msgType: 'text', text: message.text });
    else if (message.kind === 'image') {
      const format = /\.([A-Za-z0-9]{2,5})(?:[?#]|$)/.exec(message.mediaId)?.[1];
      await this.client.sendMessage({ ...base, msgType: 'image', url: message.mediaId, ...(format ? { format } : {}) });
    } else {
      const { MsgType, ...extra } = message.payload as { MsgType?: unknown };
      await this.client.sendMessage({ ...base, msgType: String(MsgType ?? 'text'), extra });
    }
  }

  /** Closes the HTTP pools (once: `close()` is idempotent). */
  protected async release(): Promise<void> {
    await Promise.all(this.#http.map((client) => client.close()));
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
}
