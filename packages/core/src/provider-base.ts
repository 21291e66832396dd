import { coreError } from './errors.js';
import { describeZodIssues } from './kefu-config.js';
import type { KefuProvider, ProviderCapability } from './provider.js';
import { type RecordQuery, type RecordQueryInput, RecordQuerySchema } from './query.js';
import type { StreamKey } from './record.js';
import { type PageSource, RecordStream, type RecordStreamOptions } from './record-stream.js';

/** What a provider built on {@link KefuProviderBase} reads for one validated query. */
export interface ProviderRecordSource {
  /** The stream's key: the platform and the account the records belong to. */
  key: StreamKey;
  /** Fetches the pages; cold (nothing is fetched before the stream is consumed). */
  source: PageSource;
}

/** Options every provider built on {@link KefuProviderBase} accepts. */
export interface ProviderBaseOptions {
  /** Tuning (prefetch, validation, hooks) of every stream the provider returns. */
  streamOptions?: RecordStreamOptions;
}

/**
 * Validates a record query the way every provider does: KEFU_QUERY_INVALID naming each
 * bad field (`wechat-mp records: from: \`from\` must not be after \`to\``).
 */
export function parseRecordQuery(query: RecordQueryInput, who: string): RecordQuery {
  const parsed = RecordQuerySchema.safeParse(query);
  if (parsed.success) return parsed.data;
  throw coreError('KEFU_QUERY_INVALID', `${who} records: ${describeZodIssues(parsed.error, query).join('; ')}`);
}

/**
 * What every provider shares, so the platform packages only say what is theirs: the query
 * is validated the same way (see {@link parseRecordQuery}), `streamOptions` apply to every
 * stream, `close()` releases resources once however often it is called, and any use after
 * it fails at once with KEFU_PROVIDER_CLOSED (never a stream that fails later).
 *
 * A subclass implements {@link KefuProviderBase.recordSource} (a validated query → a page
 * source) and {@link KefuProviderBase.release}, and calls {@link KefuProviderBase.assertOpen}
 * at the start of its other public methods.
 */
export abstract class KefuProviderBase implements KefuProvider {
  abstract readonly id: string;
  abstract readonly platform: string;
  abstract readonly capabilities: ReadonlySet<ProviderCapability>;
  readonly #streamOptions: RecordStreamOptions;
  #closing: Promise<void> | undefined;

  protected constructor(options: ProviderBaseOptions = {}) {
    this.#streamOptions = options.streamOptions ?? {};
  }

  abstract accounts(): readonly string[];

  /** A cold, resumable stream of the records matching `query` (validated here; KEFU_QUERY_INVALID names a bad field). */
  records(query: RecordQueryInput): RecordStream {
    this.assertOpen();
    const valid = parseRecordQuery(query, this.platform);
    const { key, source } = this.recordSource(valid);
    return new RecordStream(key, source, valid.resumeFrom, this.#streamOptions);
  }

  /** Releases sockets and timers once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.release().then(() => undefined);
    return this.#closing;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The page source of one validated query. */
  protected abstract recordSource(query: RecordQuery): ProviderRecordSource;

  /** Releases the provider's resources; called once, by the first `close()`. */
  protected abstract release(): Promise<void>;

  /** Throws KEFU_PROVIDER_CLOSED once `close()` was called. */
  protected assertOpen(): void {
    if (this.#closing) {
      throw coreError('KEFU_PROVIDER_CLOSED', `${this.platform} provider ${this.id} was closed; create a new one`);
    }
  }
}
