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
  type KefuRecord,
  type MessagingCapability,
  type OutgoingMessage,
  type ProviderBaseOptions,
  type ProviderCapability,
  type ProviderRecordSource,
  type PushReceiver,
  type RecordQuery,
  registerSecret,
  silentLogger,
  type TokenStore,
  undiciHttpClientFactory,
} from '@kefu/core';
import { WecomKfCallbackReceiver } from './callback-receiver.js';
import { wecomKfError } from './errors.js';
import { downloadWecomMedia } from './media-download.js';
import { WECOM_KF_PLATFORM } from './record-normalizer.js';
import { sentRecord } from './sent-records.js';
import { CallbackTokens, SyncMsgPageSource } from './sync-msg-pages.js';
import { WecomTokenManager } from './token-manager.js';
import { WecomKfClient } from './wecom-kf-client.js';
import { parseWecomKfConfig, type WecomKfConfig, type WecomKfConfigInput } from './wecom-kf-config.js';
import { type KfOutgoingMessage, KfOutgoingMessageSchema } from './wecom-kf-schemas.js';

/** Runtime dependencies of {@link WecomKfProvider}, all optional. */
export interface WecomKfProviderOptions extends ProviderBaseOptions {
  /** Instance id (default `wecom-kf`). */
  id?: string;
  /** Where HTTP clients come from (default: core's undici client). */
  httpClients?: HttpClientFactory;
  logger?: KefuLogger;
  /** Clock for token expiry, callback-token age and the 3-day retention (default Date.now). */
  now?: () => number;
  /** A token store of your own (Redis, a central token service); overrides `config.tokenStore`. */
  tokenStore?: TokenStore;
  /** Base directory for a relative `tokenStore.path` (default the working directory). */
  baseDir?: string;
}

/** A message to send: the generic subset, or a native WeCom message `{msgtype, <msgtype>: {…}}`. */
export interface WecomSendRequest {
  /** The open_kfid (the only configured one when omitted). */
  account?: string;
  /** The external_userid. */
  customer: string;
  message: OutgoingMessage;
  /** Your own msgid (≤ 32 of [0-9a-zA-Z_-], unique in the account) to make a retried send idempotent. */
  msgid?: string;
}

/**
 * The WeCom customer-service (微信客服) provider: records of every configured customer-service
 * account from `kf/sync_msg`, the `kf_msg_or_event` callback receiver for `kefu serve`,
 * servicers as agents, and messaging. `client()` exposes the complete typed API of the app.
 *
 * Messages sent with `kf/send_msg` never come back from sync_msg (doc 31078): each one sent
 * through {@link WecomKfProvider.sendMessage} is turned into an outbound record at send time
 * and handed to the {@link WecomKfProvider.onRecordSent} listeners (`kefu serve` spools them
 * to its sinks).
 */
export class WecomKfProvider extends KefuProviderBase implements AgentsCapability, MessagingCapability {
  /** Instance id. */
  readonly id: string;
  /** Always `wecom-kf`. */
  readonly platform = WECOM_KF_PLATFORM;
  /** agents, messaging. */
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set<ProviderCapability>(['agents', 'messaging']);
  /** The validated configuration. */
  readonly config: WecomKfConfig;
  /** The callback tokens the receiver got and the pulls use. */
  readonly callbackTokens: CallbackTokens;
  readonly #http: HttpClient;
  readonly #client: WecomKfClient;
  readonly #now: () => number;
  readonly #pushReceivers: readonly PushReceiver[];
  readonly #sentListeners = new Set<(record: KefuRecord) => void>();

  /** A provider for the app of `config` (validated; WECOM_CONFIG_INVALID names a bad field). */
  constructor(config: WecomKfConfigInput, options: WecomKfProviderOptions = {}) {
    super(options);
    this.config = parseWecomKfConfig(config);
    this.id = options.id ?? WECOM_KF_PLATFORM;
    this.#now = options.now ?? Date.now;
    const logger = (options.logger ?? silentLogger).child({ provider: this.id });
    registerSecret(this.config.secret);
    this.callbackTokens = new CallbackTokens(this.#now);
    const callback = this.config.callback;
    this.#pushReceivers = callback
      ? [
          new WecomKfCallbackReceiver({
            ...callback,
            corpId: this.config.corpId,
            accounts: this.accounts(),
            tokens: this.callbackTokens,
            instanceId: this.id,
            now: this.#now,
          }),
        ]
      : [];
    this.#http = (options.httpClients ?? undiciHttpClientFactory).create({
      baseUrl: this.config.baseUrl,
      connectTimeoutMs: this.config.timeouts.connectMs,
      headersTimeoutMs: this.config.timeouts.requestMs,
      bodyTimeoutMs: this.config.timeouts.requestMs,
      // The WeCom client retries (one place, errcode-aware): the transport must not.
      retry: false,
      logger,
    });
    const tokens = new WecomTokenManager({
      corpId: this.config.corpId,
      secret: this.config.secret,
      http: this.#http,
      store: options.tokenStore ?? createConfiguredTokenStore(this.config.tokenStore, options.baseDir),
      refreshMarginMs: this.config.refreshMarginMs,
      now: this.#now,
      logger,
    });
    this.#client = new WecomKfClient({
      corpId: this.config.corpId,
      http: this.#http,
      tokens,
      retry: { ...this.config.retry, jitter: 1 },
      logger,
    });
  }

  /** The configured open_kfids. */
  accounts(): readonly string[] {
    return this.config.accounts.map((account) => account.openKfId);
  }

  /** The typed client of the app (every kf call). */
  client(): WecomKfClient {
    this.assertOpen();
    return this.#client;
  }

  /** The callback receiver of the app, when `callback` is configured (served by `kefu serve`). */
  pushReceivers(): readonly PushReceiver[] {
    return this.#pushReceivers;
  }

  /** Downloads a medium of a record (`media_id`, valid 3 days) with `media/get`. */
  downloadMedia(_account: string, mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    this.assertOpen();
    return downloadWecomMedia({
      http: this.#http,
      tokens: this.#client.tokens,
      corpId: this.config.corpId,
      mediaId,
      ...(signal ? { signal } : {}),
    });
  }

  /** The pages of one account's records in `[from, to)` from kf/sync_msg (wrapped in a resumable stream). */
  protected recordSource(query: RecordQuery): ProviderRecordSource {
    const openKfId = this.#account(query.account, 'records');
    const source = new SyncMsgPageSource(
      this.#client,
      {
        openKfId,
        from: query.from.getTime(),
        to: query.to.getTime(),
        customer: query.customer,
        limit: Math.min(query.pageSize ?? this.config.pageSize ?? 1000, 1000),
        voiceFormat: this.config.voiceFormat === 'silk' ? 1 : 0,
      },
      this.callbackTokens,
      this.#now,
    );
    return { key: { provider: WECOM_KF_PLATFORM, account: openKfId }, source };
  }

  /** The servicers of an account (`kf/servicer/list`; users only, status 0 = on duty). */
  async listAgents(account?: string): Promise<Agent[]> {
    const openKfId = this.#account(account, 'listAgents');
    const servicers = await this.client().listServicers(openKfId);
    return servicers.flatMap((servicer) =>
      servicer.userid
        ? [{ id: servicer.userid, account: openKfId, name: servicer.userid, online: servicer.status === 0 }]
        : [],
    );
  }

  /** Sends a message with `kf/send_msg` (the messaging capability; see {@link send} for its record). */
  async sendMessage(request: WecomSendRequest): Promise<void> {
    await this.send(request);
  }

  /**
   * Sends a message with `kf/send_msg` and returns the outbound record it makes, which is also
   * handed to the {@link onRecordSent} listeners (sync_msg never returns it).
   */
  async send(request: WecomSendRequest): Promise<KefuRecord> {
    const openKfId = this.#account(request.account, 'sendMessage');
    const message = toWecomMessage(request.message);
    const answer = await this.client().sendMessage({
      touser: request.customer,
      open_kfid: openKfId,
      ...(request.msgid ? { msgid: request.msgid } : {}),
      ...message,
    });
    const record = sentRecord({
      account: openKfId,
      customer: request.customer,
      msgid: answer.msgid,
      message,
      at: this.#now(),
    });
    for (const listener of this.#sentListeners) listener(record);
    return record;
  }

  /** Calls `listener` with the record of every message this provider sends; returns the unsubscribe function. */
  onRecordSent(listener: (record: KefuRecord) => void): () => void {
    this.#sentListeners.add(listener);
    return () => this.#sentListeners.delete(listener);
  }

  /** Checks the corp id and secret (one gettoken) and that every configured account exists. */
  async check(): Promise<void> {
    const known = new Set((await this.client().listAllAccounts()).map((account) => account.open_kfid));
    const missing = this.accounts().filter((openKfId) => !known.has(openKfId));
    if (missing.length > 0) {
      throw wecomKfError(
        'WECOM_UNKNOWN_ACCOUNT',
        `wecom-kf: the app cannot manage ${missing.join(', ')} (not in kf/account/list); hand the accounts to the app in 「微信客服 - 通过API管理微信客服账号」`,
      );
    }
  }

  /** Closes the HTTP pool (once: `close()` is idempotent). */
  protected release(): Promise<void> {
    this.#sentListeners.clear();
    return this.#http.close();
  }

  #account(account: string | undefined, call: string): string {
    const accounts = this.accounts();
    if (account === undefined) {
      if (accounts.length === 1) return accounts[0] as string;
      throw coreError(
        'KEFU_QUERY_INVALID',
        `wecom-kf ${call}: the provider serves ${accounts.length} accounts (${accounts.join(', ')}): name one with \`account\``,
      );
    }
    if (!accounts.includes(account)) {
      throw wecomKfError(
        'WECOM_UNKNOWN_ACCOUNT',
        `wecom-kf ${call}: account ${account} is not configured; use one of ${accounts.join(', ')}`,
      );
    }
    return account;
  }
}

/** Maps the generic message subset to a WeCom message. */
export function toWecomMessage(message: OutgoingMessage): KfOutgoingMessage {
  if (message.kind === 'text') return { msgtype: 'text', text: { content: message.text } };
  if (message.kind === 'image') return { msgtype: 'image', image: { media_id: message.mediaId } };
  const parsed = KfOutgoingMessageSchema.safeParse(message.payload);
  if (!parsed.success) {
    throw wecomKfError(
      'WECOM_INVALID_REQUEST',
      `sendMessage: a platform payload must be one WeCom kf message {msgtype, <msgtype>: {…}}: ${firstZodIssue(parsed.error)}`,
    );
  }
  return parsed.data;
}
