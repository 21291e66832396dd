import {
  coreError,
  definePlugin,
  type JsonValue,
  type KefuProvider,
  KefuProviderBase,
  type KefuRecord,
  type PageSource,
  type ProviderCapability,
  type ProviderRecordSource,
  type RecordQuery,
  type RecordStreamOptions,
  sleep,
  TOKENS,
} from '@kefu/core';
import { ContainerModule } from 'inversify';
import { z } from 'zod';

/**
 * Scripted sources for tests of code that consumes record streams (sinks, pipelines,
 * operators) and for provider authors whose platform has no emulator: a deterministic
 * page source with counters, failures and latency, and a provider built on it.
 */

/** A failure injected into a scripted source. */
export interface ScriptedFailure {
  /** 1-based number of the page request that fails. */
  atRequest: number;
  /** The error thrown (default: a retryable KEFU_HTTP_NETWORK KefuError). */
  error?: Error;
  /** Fail only once (default) or on every request from then on. */
  persistent?: boolean;
}

/** Options of {@link createScriptedPageSource}. */
export interface ScriptedSourceOptions {
  /** All records the source holds, in checkpoint order. */
  records: readonly KefuRecord[];
  /** Records per page (default 10). */
  pageSize?: number;
  /** Delay before each page, in ms (default 0). */
  latencyMs?: number;
  failures?: readonly ScriptedFailure[];
}

/** A page source that counts what it was asked. */
export interface ScriptedPageSource extends PageSource {
  /** Page requests made so far (each `next()` of a page iterator that fetched). */
  readonly pageRequests: number;
  /** Iterators closed early (by unsubscribe/abort) so far. */
  readonly closedEarly: number;
}

/**
 * A deterministic page source over a fixed list: position = index of the next record.
 * @example
 * ```ts
 * const source = createScriptedPageSource({ records: makeRecords(100), pageSize: 7 });
 * const stream = new RecordStream({ provider: 'test', account: 'a' }, source);
 * ```
 */
export function createScriptedPageSource(options: ScriptedSourceOptions): ScriptedPageSource {
  const pageSize = options.pageSize ?? 10;
  const failed = new Set<ScriptedFailure>();
  let pageRequests = 0;
  let closedEarly = 0;
  return {
    get pageRequests() {
      return pageRequests;
    },
    get closedEarly() {
      return closedEarly;
    },
    async *pages(position: JsonValue, signal: AbortSignal) {
      let next = typeof position === 'number' ? position : 0;
      let finished = false;
      try {
        while (next < options.records.length) {
          pageRequests += 1;
          if (options.latencyMs) await sleep(options.latencyMs, signal);
          for (const failure of options.failures ?? []) {
            const due = failure.persistent ? pageRequests >= failure.atRequest : pageRequests === failure.atRequest;
            if (due && (failure.persistent || !failed.has(failure))) {
              failed.add(failure);
              throw (
                failure.error ??
                coreError('KEFU_HTTP_NETWORK', `scripted failure at page request ${pageRequests}`, { retryable: true })
              );
            }
          }
          const records = options.records.slice(next, next + pageSize);
          next += records.length;
          yield { records, position: next };
        }
        finished = true;
      } finally {
        if (!finished) closedEarly += 1;
      }
    },
  };
}

/** Builds `count` valid records for one stream, ids `r0…`, one second apart from `start`. */
export function makeRecords(
  count: number,
  options: { provider?: string; account?: string; start?: Date; customers?: number } = {},
): KefuRecord[] {
  const provider = options.provider ?? 'scripted';
  const account = options.account ?? 'account-1';
  const start = (options.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const customers = options.customers ?? 5;
  return Array.from({ length: count }, (_, index) => ({
    id: `r${index}`,
    provider,
    account,
    customer: `customer-${index % customers}`,
    direction: index % 2 === 0 ? 'inbound' : 'outbound',
    kind: 'text',
    text: `消息 ${index} 🙂`,
    at: new Date(start + index * 1000).toISOString(),
    raw: { index },
  }));
}

/** Options of {@link createScriptedProvider}. */
export interface ScriptedProviderOptions extends Omit<ScriptedSourceOptions, 'records'> {
  id?: string;
  platform?: string;
  /** Records per account; each account's list must use that account and the platform name. */
  accounts: Record<string, readonly KefuRecord[]>;
  streamOptions?: RecordStreamOptions;
}

/** A provider backed by scripted sources, filtering by the query's time range. */
export interface ScriptedProvider extends KefuProvider {
  /** Page requests across all streams so far. */
  readonly pageRequests: number;
  readonly closed: boolean;
}

/** An in-memory provider on core's provider base: query validation, stream options and close-once come from there. */
class ScriptedKefuProvider extends KefuProviderBase implements ScriptedProvider {
  readonly id: string;
  readonly platform: string;
  readonly capabilities: ReadonlySet<ProviderCapability> = new Set<ProviderCapability>();
  readonly #options: ScriptedProviderOptions;
  readonly #sources: ScriptedPageSource[] = [];

  constructor(options: ScriptedProviderOptions) {
    super(options.streamOptions ? { streamOptions: options.streamOptions } : {});
    this.#options = options;
    this.platform = options.platform ?? 'scripted';
    this.id = options.id ?? this.platform;
  }

  get pageRequests(): number {
    return this.#sources.reduce((sum, source) => sum + source.pageRequests, 0);
  }

  accounts(): readonly string[] {
    return Object.keys(this.#options.accounts);
  }

  protected recordSource(query: RecordQuery): ProviderRecordSource {
    const accounts = this.accounts();
    const account = query.account ?? (accounts.length === 1 ? accounts[0] : undefined);
    const all = account === undefined ? undefined : this.#options.accounts[account];
    if (account === undefined || all === undefined) {
      throw coreError('KEFU_QUERY_INVALID', `unknown or missing account; this provider serves ${accounts.join(', ')}`);
    }
    const from = query.from.getTime();
    const to = query.to.getTime();
    const records = all.filter((record) => {
      const at = Date.parse(record.at);
      return at >= from && at < to && (query.customer === undefined || record.customer === query.customer);
    });
    const source = createScriptedPageSource({ ...this.#options, records });
    this.#sources.push(source);
    return { key: { provider: this.platform, account }, source };
  }

  protected async release(): Promise<void> {}
}

/** A complete in-memory provider for tests and examples. */
export function createScriptedProvider(options: ScriptedProviderOptions): ScriptedProvider {
  return new ScriptedKefuProvider(options);
}

/**
 * A provider plugin over {@link createScriptedProvider}, so a runtime composed with
 * `createKefu` (or a config file) gets a deterministic provider: for testing sinks and
 * checkpoint stores end to end.
 *
 * @example
 * ```ts
 * const kefu = await createKefu({
 *   providers: [{ use: scriptedProviderPlugin({ accounts: { 'shop-1': makeRecords(100, { provider: 'scripted', account: 'shop-1' }) } }), id: 'shop' }],
 *   sinks: [{ use: mySinkPlugin, config: {…} }],
 * });
 * ```
 */
export function scriptedProviderPlugin(options: Omit<ScriptedProviderOptions, 'id'>) {
  return definePlugin({
    name: 'scripted-provider',
    kind: 'provider',
    configSchema: z.object({}),
    module: (_config, context) =>
      new ContainerModule((bindings) => {
        bindings.bind(TOKENS.Provider).toConstantValue(createScriptedProvider({ ...options, id: context.instanceId }));
      }),
  });
}
