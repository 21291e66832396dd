/**
 * A custom provider written against @kefu/core's public API only.
 *
 * "HelpDesk" is a fictional platform whose API pages chat items by cursor:
 * `GET /items?cursor=<n>&limit=<m>` → `{ items: [...], next: <n> | null }` (the shape
 * @kefu/testkit's scripted platform serves). The provider fetches raw pages, validates
 * them with zod, normalizes each item into a KefuRecord, and lets core turn its
 * PageSource into a cold, resumable, backpressured RecordStream.
 *
 * Run it: `node examples/dist/src/custom-provider.js` (after `pnpm build`).
 */
import { pathToFileURL } from 'node:url';
import {
  coreError,
  createHttpClient,
  type HttpClient,
  type JsonValue,
  KefuProviderBase,
  type KefuRecord,
  type PageSource,
  type ProviderCapability,
  type ProviderRecordSource,
  type RecordQuery,
  registerSecret,
} from '@kefu/core';
import { startScriptedPlatform } from '@kefu/testkit';
import { z } from 'zod';

/** One raw chat item as HelpDesk returns it. */
export const HelpDeskItemSchema = z.object({
  itemId: z.number().int().nonnegative(),
  ticket: z.string(),
  customer: z.string(),
  agent: z.string().nullable(),
  fromCustomer: z.boolean(),
  body: z.string(),
  createdAt: z.iso.datetime(),
});
/** One raw chat item. */
export type HelpDeskItem = z.infer<typeof HelpDeskItemSchema>;

const HelpDeskPageSchema = z.object({ items: z.array(HelpDeskItemSchema), next: z.number().int().nullable() });

/** Configuration of {@link HelpDeskProvider}. */
export interface HelpDeskOptions {
  baseUrl: string;
  apiToken: string;
  /** The HelpDesk workspace this provider reads (its only account). */
  workspace: string;
  pageSize?: number;
}

/** Raw item → KefuRecord: the one mapping function. */
export function normalizeHelpDeskItem(item: HelpDeskItem, workspace: string): KefuRecord {
  return {
    id: `helpdesk-${item.itemId}`,
    provider: 'helpdesk',
    account: workspace,
    customer: item.customer,
    ...(item.agent ? { agent: item.agent } : {}),
    direction: item.fromCustomer ? 'inbound' : 'outbound',
    kind: 'text',
    text: item.body,
    at: new Date(item.createdAt).toISOString(),
    raw: item as unknown as JsonValue,
  };
}

/**
 * A provider for HelpDesk: a name, capabilities, accounts and the pages of a query. Core's
 * `KefuProviderBase` validates queries, builds the stream and closes once (use after
 * close fails with KEFU_PROVIDER_CLOSED).
 */
export class HelpDeskProvider extends KefuProviderBase {
  readonly id = 'helpdesk';
  readonly platform = 'helpdesk';
  readonly capabilities = new Set<ProviderCapability>();
  readonly #http: HttpClient;
  readonly #options: HelpDeskOptions;

  constructor(options: HelpDeskOptions) {
    super();
    registerSecret(options.apiToken);
    this.#options = options;
    this.#http = createHttpClient({
      baseUrl: options.baseUrl,
      retry: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 500, jitter: 1 },
    });
  }

  accounts(): readonly string[] {
    return [this.#options.workspace];
  }

  protected recordSource(query: RecordQuery): ProviderRecordSource {
    const account = query.account ?? this.#options.workspace;
    if (account !== this.#options.workspace) {
      throw coreError('KEFU_QUERY_INVALID', `helpdesk serves workspace ${this.#options.workspace}, not ${account}`);
    }
    const http = this.#http;
    const { apiToken, pageSize = 50 } = this.#options;
    const from = query.from.getTime();
    const to = query.to.getTime();
    // Position = the platform's cursor; HelpDesk items are ordered by time, so a cursor
    // stays valid when a later sync asks for a later `to`.
    const source: PageSource = {
      async *pages(position, signal) {
        let cursor: number | null = typeof position === 'number' ? position : 0;
        while (cursor !== null) {
          const page: z.infer<typeof HelpDeskPageSchema> = await http.requestJson(
            {
              method: 'GET',
              path: '/items',
              query: { cursor, limit: pageSize },
              headers: { authorization: `Bearer ${apiToken}` },
              signal,
            },
            HelpDeskPageSchema,
          );
          const records = page.items
            .filter((item) => {
              const at = Date.parse(item.createdAt);
              return at >= from && at < to;
            })
            .map((item) => normalizeHelpDeskItem(item, account));
          const next: number = page.next ?? cursor + page.items.length;
          yield { records, position: next };
          cursor = page.next;
        }
      },
    };
    return { key: { provider: this.platform, account }, source };
  }

  protected async release(): Promise<void> {
    await this.#http.close();
  }
}

/** Deterministic HelpDesk items for the demo and tests. */
export function helpDeskItems(count: number, start = Date.parse('2026-11-01T00:00:00Z')): HelpDeskItem[] {
  return Array.from({ length: count }, (_, index) => ({
    itemId: index + 1,
    ticket: `T-${Math.floor(index / 4) + 1}`,
    customer: `customer-${index % 7}`,
    agent: index % 2 === 0 ? null : `agent-${index % 3}`,
    fromCustomer: index % 2 === 0,
    body: index % 2 === 0 ? `我的订单 #${index} 还没到 📦` : `您好，正在为您查询订单 #${index - 1}`,
    createdAt: new Date(start + index * 60_000).toISOString(),
  }));
}

/** Starts a scripted HelpDesk, reads a day of records, and returns them. */
export async function main(): Promise<KefuRecord[]> {
  const platform = await startScriptedPlatform({
    items: helpDeskItems(120),
    maxLimit: 50,
    token: 'helpdesk-demo-token',
  });
  const provider = new HelpDeskProvider({ baseUrl: platform.url, apiToken: 'helpdesk-demo-token', workspace: 'acme' });
  try {
    const records: KefuRecord[] = [];
    for await (const page of provider.records({ from: '2026-11-01', to: '2026-11-02' })) records.push(...page.records);
    return records;
  } finally {
    await provider.close();
    await platform.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const records = await main();
  console.log(`read ${records.length} HelpDesk records; first: ${JSON.stringify(records[0])}`);
}
