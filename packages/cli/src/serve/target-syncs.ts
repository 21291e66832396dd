import {
  type Kefu,
  type KefuLogger,
  type KefuProvider,
  KeyedLock,
  type RecordSink,
  runWithConcurrency,
  type SyncRun,
  type SyncTarget,
} from '@kefu/core';
import type { ServeMetrics } from './serve-metrics.js';

/**
 * The syncs `kefu serve` runs: scheduled backfill rounds and the pulls doorbell pushes ask for
 * (WeCom `kf_msg_or_event`). Every sync covers one target and runs under that target's lock
 * (core's KeyedLock), so a pull and a backfill of one account never read its cursor at the
 * same time: both go through the one checkpoint, one after the other. Pulls of a target
 * already waiting for its turn are coalesced into that one.
 */

/** Options of {@link TargetSyncs}. */
export interface TargetSyncsOptions {
  kefu: Kefu;
  /** The sink of backfill rounds: the spool's deduplicating fan-out to the configured sinks. */
  sink: RecordSink;
  /** The sink of pulls: into the spool like pushes (media archived), drained to the sinks. */
  pullSink: RecordSink;
  metrics: ServeMetrics;
  logger: KefuLogger;
  signal: AbortSignal;
}

/** How far back a pull of a target never synced reads (the platform keeps 3 days of WeCom messages). */
export const PULL_LOOKBACK_MS = 3 * 86_400_000;

/** Runs serve's syncs one target at a time per target (see the module comment). */
export class TargetSyncs {
  readonly #options: TargetSyncsOptions;
  readonly #lock = new KeyedLock();
  readonly #waitingPulls = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #pulls = 0;

  constructor(options: TargetSyncsOptions) {
    this.#options = options;
  }

  /** Pulls completed so far (for tests). */
  get pulls(): number {
    return this.#pulls;
  }

  /** One backfill round over every target, `concurrency` targets at a time. */
  async backfill(range: { from: Date; to: Date }, concurrency: number): Promise<void> {
    const targets: SyncTarget[] = this.#options.kefu
      .providers()
      .flatMap((provider) => provider.accounts().map((account) => ({ provider, account })));
    await runWithConcurrency(targets, concurrency, this.#options.signal, (target) =>
      this.#sync(target, range, 'backfill'),
    );
  }

  /** Queues a pull of `account` of `provider` (coalesced with one already waiting). */
  pull(provider: KefuProvider, account: string): void {
    if (this.#options.signal.aborted) return;
    if (!provider.accounts().includes(account)) {
      this.#options.logger.warn('pull asked for an account the provider does not serve; ignored', {
        provider: provider.id,
        account,
      });
      return;
    }
    const key = `${provider.id}/${account}`;
    if (this.#waitingPulls.has(key)) return;
    this.#waitingPulls.add(key);
    const running = this.#lock
      .run(key, async () => {
        this.#waitingPulls.delete(key);
        if (this.#options.signal.aborted) return;
        const now = Date.now();
        await this.#observe(
          this.#options.kefu.sync({
            targets: [{ provider, account }],
            from: new Date(now - PULL_LOOKBACK_MS),
            fromIsDefault: true,
            to: new Date(now),
            sinks: [this.#options.pullSink],
            signal: this.#options.signal,
          }),
          'pull',
        );
        this.#pulls += 1;
      })
      .catch((error: unknown) => this.#options.logger.error('pull failed', { target: key, error: String(error) }))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Resolves once no pull is running or waiting. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  #sync(target: SyncTarget, range: { from: Date; to: Date }, source: 'backfill'): Promise<void> {
    return this.#lock.run(`${target.provider.id}/${target.account}`, () =>
      this.#observe(
        this.#options.kefu.sync({
          targets: [target],
          from: range.from,
          fromIsDefault: true,
          to: range.to,
          sinks: [this.#options.sink],
          signal: this.#options.signal,
        }),
        source,
      ),
    );
  }

  /** Follows a run's progress into the metrics; a failed run is logged, not thrown. */
  async #observe(run: SyncRun, source: 'backfill' | 'pull'): Promise<void> {
    const { metrics, logger } = this.#options;
    const subscription = run.progress$.subscribe((event) => {
      if (event.type === 'retry') metrics.retries.inc({ component: source });
      if (event.target && event.lagMs !== undefined)
        metrics.backfillLag.set({ target: event.target }, event.lagMs / 1000);
      if (event.target && (event.type === 'target-done' || event.type === 'target-failed')) {
        metrics.backfillRuns.inc({ target: event.target, status: event.status ?? event.type });
      }
    });
    try {
      await run.done;
    } catch (error) {
      logger.error(source === 'pull' ? 'pull failed' : 'scheduled backfill failed', { error: String(error) });
    } finally {
      subscription.unsubscribe();
    }
  }
}
