import type { RecordQueryInput } from './query.js';
import type { KefuRecord } from './record.js';
import type { ProviderRetry, RecordStream } from './record-stream.js';

/**
 * The options of every call of a platform client (WeChat, Youmi): each call is
 * `client.method(input, { signal, onRetry })`.
 */
export interface PlatformCallOptions {
  /** Aborts the call (and its retries). */
  signal?: AbortSignal;
  /** Told about every retry of this call (the sync pipeline counts them). */
  onRetry?: ((retry: ProviderRetry) => void) | undefined;
}

/** Optional features a provider may declare beyond streaming records. */
export type ProviderCapability = 'agents' | 'sessions' | 'messaging';

/**
 * A customer-service platform: a name, the accounts it serves, what it can do, and a
 * cold stream of records. Everything else is an optional capability interface.
 */
export interface KefuProvider {
  /** Instance id, unique in one runtime (e.g. `wechat-mp` or `wx-shop-east`). */
  readonly id: string;
  /** Platform name used in records' `provider` field (e.g. `wechat-mp`, `youmi`). */
  readonly platform: string;
  /** Capabilities beyond `records`, so generic code can ask before calling. */
  readonly capabilities: ReadonlySet<ProviderCapability>;
  /** The accounts this provider instance serves (WeChat app ids, Youmi wechatIds). */
  accounts(): readonly string[];
  /** A cold stream of the records matching `query`; nothing is fetched before subscription. */
  records(query: RecordQueryInput): RecordStream;
  /** Releases sockets and timers; idempotent. */
  close(): Promise<void>;
  /**
   * Checks credentials and connectivity of every account without side effects, rejecting
   * with a KefuError that says what to fix (`kefu doctor` calls it). Optional.
   */
  check?(): Promise<void>;
}

/** An agent (customer-service staff member) in normalized form. */
export interface Agent {
  /** The platform's agent account (WeChat `kf_account`, Youmi staff code). */
  id: string;
  account: string;
  name: string;
  avatarUrl?: string;
  /** Whether the agent is online now, when the platform says. */
  online?: boolean;
  /** Sessions the agent is serving now, when the platform says. */
  activeSessions?: number;
}

/** Lists agents. */
export interface AgentsCapability {
  listAgents(account?: string): Promise<Agent[]>;
}

/** A customer's current session with an agent. */
export interface SessionInfo {
  account: string;
  customer: string;
  /** The serving agent, or undefined when nobody serves the customer. */
  agent?: string;
  createdAt?: string;
}

/** Opens, closes and inspects customer sessions. */
export interface SessionsCapability {
  openSession(request: { account?: string; customer: string; agent: string }): Promise<void>;
  closeSession(request: { account?: string; customer: string; agent: string }): Promise<void>;
  getSession(request: { account?: string; customer: string }): Promise<SessionInfo>;
}

/** A message to a customer, in the subset every platform supports; `platform` passes a native payload through. */
export type OutgoingMessage =
  | { kind: 'text'; text: string }
  | { kind: 'image'; mediaId: string }
  | { kind: 'platform'; payload: Record<string, unknown> };

/** Sends messages to customers. */
export interface MessagingCapability {
  sendMessage(request: {
    account?: string;
    customer: string;
    message: OutgoingMessage;
    /** Send as this agent, where the platform supports it. */
    agent?: string;
  }): Promise<void>;
}

/** Maps each capability to its interface. */
export interface CapabilityInterfaces {
  agents: AgentsCapability;
  sessions: SessionsCapability;
  messaging: MessagingCapability;
}

/** True when `provider` declares `capability` (and so implements its interface). */
export function hasCapability<C extends ProviderCapability>(
  provider: KefuProvider,
  capability: C,
): provider is KefuProvider & CapabilityInterfaces[C] {
  return provider.capabilities.has(capability);
}

/**
 * A provider that makes records of what it sends itself, because its platform never returns
 * them (WeCom `kf/send_msg`): listeners get each such record once, at send time
 * (`kefu serve` spools them to its sinks).
 */
export interface SentRecordsSource {
  /** Calls `listener` with the record of every message sent; returns the unsubscribe function. */
  onRecordSent(listener: (record: KefuRecord) => void): () => void;
}

/** True when `provider` emits records of the messages it sends (checked by shape). */
export function emitsSentRecords(provider: KefuProvider): provider is KefuProvider & SentRecordsSource {
  return typeof (provider as Partial<SentRecordsSource>).onRecordSent === 'function';
}
