import { dirname, resolve } from 'node:path';
import {
  createKefu,
  type Kefu,
  type LogLevel,
  type PluginInstanceConfig,
  readKefuConfigFile,
  TOKENS,
  type TokenStore,
} from '@kefu/core';
import {
  openWorkerPool,
  PostgresTokenStore,
  SyncWorker,
  type WorkerEvent,
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
  /** Seconds before a dead worker's lease expires (default 60). */
  leaseSeconds?: number;
  /** Stop when no account is due or leased, instead of running until SIGTERM. */
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

/** The PostgreSQL sink of the config: named by `--database`, or the first `@kefu/sink-db` with a postgres:// url. */
function databaseSinkOf(
  sinks: readonly PluginInstanceConfig[],
  wanted: string | undefined,
): { id: string; url: string } {
  const candidates = sinks
    .filter((spec) => spec.use === '@kefu/sink-db')
    .map((spec) => ({
      id: spec.id ?? DEFAULT_INSTANCE_ID(spec.use),
      url: (spec.config as { url?: unknown } | undefined)?.url,
    }));
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
  return { id: found.id, url: found.url };
}

/** One line per worker event, for people. */
function describeEvent(event: WorkerEvent): string | undefined {
  switch (event.type) {
    case 'registered':
      return `worker: ${event.accounts} accounts shared (${event.added} new)`;
    case 'claimed':
      return `claimed ${event.target}${event.previousOwner ? ` (taken over from ${event.previousOwner})` : ''}`;
    case 'released':
      return `${event.status.padEnd(15)} ${event.target}: ${event.records} records`;
    case 'lease-lost':
      return `lease lost      ${event.target} after ${event.records} records (another worker continues)`;
    case 'poll-failed':
      return `polling failed, retrying: ${String(event.error.message ?? '')}`;
    default:
      return undefined;
  }
}

/** The exit code of a worker: stopped by a signal 130, any failed account 1, else 0. */
export function exitCodeOfWorker(summary: WorkerSummary, interrupted: boolean): ExitCodeValue {
  if (interrupted) return ExitCode.Interrupted;
  if (summary.runs.some((run) => run.status === 'failed')) return ExitCode.Failed;
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

  // Token refreshes hold a connection for the lock while they call WeChat: one per syncing account, plus claims and heartbeats.
  const pool = openWorkerPool(database.url, { max: (options.concurrency ?? 2) + 2 });
  // One binding: every provider that refreshes tokens shares them through PostgreSQL.
  const sharedTokens = new ContainerModule((module) => {
    module.bind<TokenStore>(TOKENS.TokenStore).toConstantValue(new PostgresTokenStore({ pool }));
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
    const worker = new SyncWorker({
      pool,
      job: options.job,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.leaseSeconds !== undefined ? { leaseSeconds: options.leaseSeconds } : {}),
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
    await kefu?.close();
    await pool.end();
  }
}
