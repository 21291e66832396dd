import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import {
  createKefu,
  type Kefu,
  type KefuConfig,
  type LogLevel,
  type PluginInstanceConfig,
  readKefuConfigFile,
  TOKENS,
  TokenCipher,
  type TokenStore,
} from '@kefu/core';
import {
  openWorkerPool,
  PostgresTokenStore,
  SyncWorker,
  type SyncWorkerSettingsInput,
  type WorkerEvent,
  WorkerMetrics,
  type WorkerSummary,
} from '@kefu/sync-workers';
import { ContainerModule } from 'inversify';
import { usageError } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { checkTimeRange, parseTimeArgument } from '../time-arguments.js';
import { BUNDLED_PLUGINS } from './bundled-plugins.js';
import { cliLogger, effectiveLogLevel } from './cli-runtime.js';

/** Flags of `kefu worker`. */
export interface WorkerCommandOptions {
  /** The config file: providers, and a `@kefu/sink-db` sink with a postgres:// url. */
  config: string;
  /** Job name shared by the fleet (accounts, leases and checkpoints are per job). */
  job: string;
  /** Accounts this process syncs at once (default 2). */
  concurrency?: number;
  /** Seconds without a heartbeat before a dead worker's account is retried elsewhere (default 30, at least 10). */
  heartbeatSeconds?: number;
  /** A synced account is due again after this long (default 300). */
  resyncSeconds?: number;
  /** Resync on this cron schedule instead of an interval. */
  resyncCron?: string;
  /** Retries of a failed sync before the account is dead-lettered (default 5). */
  retryLimit?: number;
  /** Base of the exponential back-off between retries (default 10). */
  retryDelaySeconds?: number;
  /** Serve Prometheus metrics on this port (0 = random). */
  metricsPort?: number;
  /** Interface of the metrics server (default 127.0.0.1). */
  metricsHost?: string;
  /** Stop when none of the accounts is due, running or retrying, instead of running until SIGTERM. */
  once?: boolean;
  /** Start of the range for accounts without a checkpoint (default 7d). */
  from?: string;
  /** Fixed end of the range (default: now, at each claim). */
  to?: string;
  /** The id of the `@kefu/sink-db` sink holding records, checkpoints and leases (default: the first on PostgreSQL). */
  database?: string;
  /** Print worker events as NDJSON on stdout. */
  json?: boolean;
  /** Unset: the config's `logger.level`, else info. */
  logLevel?: LogLevel;
}

const DEFAULT_LOOKBACK = '7d';
const DEFAULT_INSTANCE_ID = (use: string) => use.replace(/^@[^/]+\//, '');

/** The worker settings: the config's `worker` block, each value overridden by its flag. */
function workerSettingsOf(options: WorkerCommandOptions, config: KefuConfig): Partial<SyncWorkerSettingsInput> {
  const fromConfig = config.worker ?? {};
  const pick = <T>(flag: T | undefined, configured: T | undefined) => flag ?? configured;
  const settings: Partial<SyncWorkerSettingsInput> = {
    concurrency: pick(options.concurrency, fromConfig.concurrency),
    heartbeatSeconds: pick(options.heartbeatSeconds, fromConfig.heartbeatSeconds),
    superviseIntervalSeconds: fromConfig.superviseIntervalSeconds,
    resyncIntervalSeconds: pick(options.resyncSeconds, fromConfig.resyncIntervalSeconds),
    // An interval on the command line replaces a cron schedule from the config.
    resyncCron:
      options.resyncSeconds !== undefined ? options.resyncCron : pick(options.resyncCron, fromConfig.resyncCron),
    resyncTimeZone: fromConfig.resyncTimeZone,
    retryLimit: pick(options.retryLimit, fromConfig.retryLimit),
    retryDelaySeconds: pick(options.retryDelaySeconds, fromConfig.retryDelaySeconds),
    retryDelayMaxSeconds: fromConfig.retryDelayMaxSeconds,
    table: fromConfig.table,
    schema: fromConfig.schema,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** Serves the worker's metrics at GET /metrics; resolves with the URL once listening. */
async function serveMetrics(
  metrics: WorkerMetrics,
  port: number,
  host: string,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics
      .exposition()
      .then(({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body))
      .catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`, server };
}

/** The `@kefu/sink-db` sink a fleet keeps its records, checkpoints, jobs and tokens in. */
export interface DatabaseSinkOfWorkers {
  id: string;
  url: string;
  /**
   * The sink's configured timeouts: the workers' own connections (jobs, heartbeats, token
   * locks) to the same server give up on a hung connection as soon as the sink's do.
   */
  timeouts: { statementTimeoutMs?: number; connectTimeoutMs?: number };
}

/** The PostgreSQL sink of the config: named by `--database`, or the first `@kefu/sink-db` with a postgres:// url. */
export function databaseSinkOf(
  sinks: readonly PluginInstanceConfig[],
  wanted: string | undefined,
): DatabaseSinkOfWorkers {
  const candidates = sinks
    .filter((spec) => spec.use === '@kefu/sink-db')
    .map((spec) => {
      const config = spec.config as
        | { url?: unknown; statementTimeoutMs?: unknown; connectTimeoutMs?: unknown }
        | undefined;
      return {
        id: spec.id ?? DEFAULT_INSTANCE_ID(spec.use),
        url: config?.url,
        timeouts: {
          // 0 turns the sink's timeout off; the workers' short queries keep their default then.
          ...(typeof config?.statementTimeoutMs === 'number' && config.statementTimeoutMs > 0
            ? { statementTimeoutMs: config.statementTimeoutMs }
            : {}),
          ...(typeof config?.connectTimeoutMs === 'number' ? { connectTimeoutMs: config.connectTimeoutMs } : {}),
        },
      };
    });
  const found =
    wanted === undefined
      ? candidates.find((c) => typeof c.url === 'string' && /^postgres(ql)?:/.test(c.url))
      : candidates.find((c) => c.id === wanted);
  if (!found || typeof found.url !== 'string' || !/^postgres(ql)?:/.test(found.url)) {
    throw usageError(
      wanted === undefined
        ? 'kefu worker needs a `@kefu/sink-db` sink with a postgres:// url in the config (records, checkpoints and leases live there)'
        : `--database ${wanted}: no \`@kefu/sink-db\` sink with that id and a postgres:// url`,
      "add `sinks: [{ use: '@kefu/sink-db', id: database, config: { url: 'postgres://…' } }]` or pass --database <sink id>",
    );
  }
  return { id: found.id, url: found.url, timeouts: found.timeouts };
}

/**
 * The key the shared token table is encrypted with (KEFU_TOKEN_KEY, old keys in
 * KEFU_TOKEN_OLD_KEYS). Required when a provider refreshes tokens through it (WeChat), so
 * no worker ever writes a token in plaintext; checked before anything connects.
 */
export function workerTokenCipher(
  providers: readonly PluginInstanceConfig[],
  env: Readonly<Record<string, string | undefined>>,
): TokenCipher | undefined {
  const storesTokens = providers.some((spec) => spec.use === '@kefu/wechat-mp');
  return storesTokens
    ? TokenCipher.requireFromEnv(env, 'kefu worker (the shared PostgreSQL token table)')
    : TokenCipher.fromEnv(env);
}

/** One line per worker event, for people. */
function describeEvent(event: WorkerEvent): string | undefined {
  switch (event.type) {
    case 'registered':
      return `worker: ${event.accounts} accounts shared (${event.added} new)`;
    case 'claimed':
      return `claimed ${event.target}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}${event.previousOwner ? ` (taken over from ${event.previousOwner})` : ''}`;
    case 'released':
      return `${event.status.padEnd(15)} ${event.target}: ${event.records} records${event.nextDueAt ? `, next ${event.nextDueAt}` : ''}`;
    case 'retry-scheduled':
      return `failed          ${event.target} (attempt ${event.attempt} of ${event.retryLimit}, retried after back-off): ${event.error}`;
    case 'dead-lettered':
      return `dead-lettered   ${event.target} after ${event.attempts} attempts: ${event.error} (kefu worker retry ${event.target})`;
    case 'skipped':
      return `skipped         ${event.target}: ${event.reason}`;
    case 'lease-lost':
      return `lease lost      ${event.target} after ${event.records} records (another worker continues)`;
    case 'poll-failed':
      return `polling failed, retrying: ${String(event.error.message ?? '')}`;
    default:
      return undefined;
  }
}

/** The exit code of a worker: stopped by a signal 130, an account dead-lettered 1, quota 3, else 0. */
export function exitCodeOfWorker(summary: WorkerSummary, interrupted: boolean): ExitCodeValue {
  if (interrupted) return ExitCode.Interrupted;
  if (summary.runs.some((run) => run.deadLettered === true)) return ExitCode.Failed;
  if (summary.runs.some((run) => run.status === 'quota-exhausted')) return ExitCode.QuotaExhausted;
  return ExitCode.Ok;
}

/**
 * `kefu worker`: one of many processes sharing a job's accounts through PostgreSQL. WeChat
 * providers get the shared PostgreSQL token store, so the fleet never invalidates its
 * own tokens; records and checkpoints go to the config's PostgreSQL `@kefu/sink-db` sink.
 */
export async function runWorkerCommand(options: WorkerCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const now = Date.now();
  const from = parseTimeArgument('--from', options.from ?? DEFAULT_LOOKBACK, now);
  const to = options.to ? parseTimeArgument('--to', options.to, now) : undefined;
  if (to) checkTimeRange(from, to);
  const configPath = resolve(io.cwd, options.config);
  const config = await readKefuConfigFile(configPath, { env: io.env });
  const logger = cliLogger(io, effectiveLogLevel(options.logLevel, config.logger?.level, 'info'));
  const database = databaseSinkOf(config.sinks, options.database);
  const cipher = workerTokenCipher(config.providers, io.env);

  const settings = workerSettingsOf(options, config);
  const metricsPort = options.metricsPort ?? config.worker?.metricsPort;
  // Token refreshes hold a connection for the lock while they call WeChat: one per syncing
  // account, plus pg-boss's polls (one per slot), heartbeats and maintenance.
  const pool = openWorkerPool(database.url, { max: 2 * (settings.concurrency ?? 2) + 3, ...database.timeouts });
  const metrics = new WorkerMetrics();
  let metricsServer: Server | undefined;
  // One binding: every provider that refreshes tokens shares them through PostgreSQL.
  const sharedTokens = new ContainerModule((module) => {
    module
      .bind<TokenStore>(TOKENS.TokenStore)
      .toConstantValue(new PostgresTokenStore({ pool, ...(cipher ? { cipher } : {}) }));
  });
  let kefu: Kefu | undefined;
  try {
    kefu = await createKefu({
      providers: config.providers,
      sinks: config.sinks,
      modules: [sharedTokens],
      checkpoints: { use: 'sink', sink: database.id },
      bundledPlugins: BUNDLED_PLUGINS,
      logger,
      baseDir: dirname(configPath),
      ...(config.sync ? { sync: config.sync } : {}),
    });
    const runtime = kefu;
    if (metricsPort !== undefined) {
      const served = await serveMetrics(metrics, metricsPort, options.metricsHost ?? '127.0.0.1');
      metricsServer = served.server;
      logger.info('worker metrics listening', { url: served.url });
      io.stderr.write(`metrics on ${served.url}\n`);
    }
    const worker = new SyncWorker({
      pool,
      job: options.job,
      ...settings,
      once: options.once ?? false,
      providers: runtime.providers(),
      sinks: runtime.sinks(),
      // `checkpoints: { use: 'sink' }` above made the database sink the store: a TransactionalSink.
      checkpoints: runtime.checkpointStore,
      from,
      fromIsDefault: options.from === undefined,
      ...(to ? { to } : {}),
      sync: {
        ...(config.sync?.batchSize !== undefined ? { batchSize: config.sync.batchSize } : {}),
        ...(config.sync?.prefetchPages !== undefined ? { prefetchPages: config.sync.prefetchPages } : {}),
        ...(config.sync?.maxBufferedBytes !== undefined ? { maxBufferedBytes: config.sync.maxBufferedBytes } : {}),
        ...(config.sync?.maxBatchWaitMs !== undefined ? { maxBatchWaitMs: config.sync.maxBatchWaitMs } : {}),
        ...(config.sync?.onInvalidRecord !== undefined ? { onInvalidRecord: config.sync.onInvalidRecord } : {}),
        ...(config.sync?.deadLetterPath !== undefined
          ? { deadLetterPath: resolve(dirname(configPath), config.sync.deadLetterPath) }
          : {}),
      },
      logger,
      onEvent: (event) => {
        metrics.observe(event);
        if (options.json) io.stdout.write(`${JSON.stringify(event)}\n`);
        else {
          const line = describeEvent(event);
          if (line) io.stderr.write(`${line}\n`);
        }
      },
    });
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals) => {
      interrupted = true;
      worker.stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await worker.run();
      if (!options.json) {
        io.stderr.write(
          `worker ${summary.workerId}: ${summary.runs.length} account syncs, ${summary.records} records\n`,
        );
      }
      return exitCodeOfWorker(summary, interrupted);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    metricsServer?.close();
    await kefu?.close();
    await pool.end();
  }
}
