import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The counters of `kefu serve` in Prometheus form (`GET /metrics`), the same names for
 * every component (records in/out, rejections by reason, retries, lag, queue depth).
 */
export class ServeMetrics {
  readonly registry = new Registry();
  /** Records taken in: `source` is `push` or `backfill`. */
  readonly recordsIn = new Counter({
    name: 'kefu_records_in_total',
    help: 'Records received, by provider, account and source (push, backfill, pull, sent).',
    labelNames: ['provider', 'account', 'source'] as const,
    registers: [this.registry],
  });
  /** Records left out because they were already stored (a backfilled copy of a pushed record). */
  readonly recordsDeduplicated = new Counter({
    name: 'kefu_records_deduplicated_total',
    help: 'Records left out as already stored, by source (backfill: a copy of a pushed record).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  /** Records a sink acknowledged. */
  readonly recordsOut = new Counter({
    name: 'kefu_records_out_total',
    help: 'Records acknowledged by a sink, by provider, account and sink.',
    labelNames: ['provider', 'account', 'sink'] as const,
    registers: [this.registry],
  });
  /** Pushes by outcome: accepted, duplicate, pull (a doorbell that pulls), rejected (with reason), unavailable. */
  readonly pushes = new Counter({
    name: 'kefu_pushes_total',
    help: 'Push requests by receiver, outcome (accepted, duplicate, pull, rejected, unavailable) and reason.',
    labelNames: ['receiver', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });
  /** Time from a whole request to its acknowledgement. */
  readonly ackSeconds = new Histogram({
    name: 'kefu_push_ack_seconds',
    help: 'Seconds from a push fully received to its acknowledgement (after the durable spool write).',
    labelNames: ['receiver'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** Retries of sink writes (drainer) and of backfill targets. */
  readonly retries = new Counter({
    name: 'kefu_retries_total',
    help: 'Retries, by component (drain, backfill).',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  /** Now minus the time of the last record a backfill committed, per target. */
  readonly backfillLag = new Gauge({
    name: 'kefu_backfill_lag_seconds',
    help: 'Now minus the time of the last record the scheduled backfill committed, by target.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  /** Backfill runs by status. */
  readonly backfillRuns = new Counter({
    name: 'kefu_backfill_runs_total',
    help: 'Scheduled backfill runs per target, by final status.',
    labelNames: ['target', 'status'] as const,
    registers: [this.registry],
  });
  /** Records spooled and not yet acknowledged by every sink. */
  readonly spoolDepth: Gauge;
  /** Media downloads by outcome. */
  readonly media = new Counter({
    name: 'kefu_media_downloads_total',
    help: 'Media archive downloads, by outcome (stored, failed, retried).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** `depth` is read at each scrape (the spool's queue length). */
  constructor(depth: () => number) {
    this.spoolDepth = new Gauge({
      name: 'kefu_spool_depth',
      help: 'Records in the push spool not yet acknowledged by every sink.',
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
