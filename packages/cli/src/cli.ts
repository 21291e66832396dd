import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitCodeOf, formatErrorLine, usageError } from './cli-errors.js';
import { type CliIo, processIo } from './cli-io.js';
import type { WorkerAdminAction } from './commands/worker-admin-command.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive whole number, got "${value}"`);
    }
    return parsed;
  };
}

function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) {
      throw new InvalidArgumentError(`${flag} must be a whole number ≥ 0, got "${value}"`);
    }
    return parsed;
  };
}

// Commands are imported when they run: `kefu --help` or a bad flag should not pay for
// loading every provider, sink and database driver.
const commands = {
  sync: () => import('./commands/sync-command.js'),
  records: () => import('./commands/records-command.js'),
  emulator: () => import('./commands/emulator-command.js'),
  demo: () => import('./commands/demo-command.js'),
  doctor: () => import('./commands/doctor-command.js'),
  schema: () => import('./commands/schema-command.js'),
  errors: () => import('./commands/errors-command.js'),
  worker: () => import('./commands/worker-command.js'),
  workerAdmin: () => import('./commands/worker-admin-command.js'),
  serve: () => import('./commands/serve-command.js'),
};

/** `--log-level`, without a commander default: unset, the config's `logger.level` applies, then `fallback`. */
const logLevelOption = (fallback: 'info' | 'warn') =>
  new Option(
    '--log-level <level>',
    `structured log level on stderr (default: logger.level from the config, else ${fallback})`,
  ).choices(['debug', 'info', 'warn', 'error']);

/** Wraps a command's action so its exit code lands in the program's result. */
type RunAction = (action: () => Promise<ExitCodeValue>) => () => Promise<void>;

/** `sync` and `records`: reading the platforms. */
function addReadingCommands(program: Command, io: CliIo, run: RunAction): void {
  program
    .command('sync')
    .description('run an incremental sync of the providers into the sinks named in a config file')
    .requiredOption('-c, --config <path>', 'kefu.config.{json,yaml,yml,ts,mjs,js}')
    .option(
      '--from <time>',
      'start of the range when no checkpoint exists (ISO date, date-time, or 7d/12h/30m before now)',
    )
    .option('--to <time>', 'end of the range (default: now)')
    .option('--provider <id...>', 'only these provider ids')
    .option('--dry-run', 'read and count without writing or storing checkpoints')
    .option('--json', 'print a JSON summary on stdout when done')
    .option('--batch-size <n>', 'records per sink batch', positiveInteger('--batch-size'))
    .addOption(logLevelOption('info'))
    .action(async (options) => run(async () => (await commands.sync()).runSyncCommand(options, io))());

  program
    .command('records')
    .description('stream records as NDJSON to stdout (kefu records … | jq)')
    .requiredOption('-c, --config <path>', 'config file naming the provider')
    .requiredOption('--provider <id>', 'provider id from the config')
    .requiredOption('--from <time>', 'start of the range')
    .option('--to <time>', 'end of the range (default: now)')
    .option('--account <id>', 'account (required when the provider serves several)')
    .option('--customer <id>', 'only this customer')
    .option('--limit <n>', 'stop after n records', positiveInteger('--limit'))
    .addOption(logLevelOption('warn'))
    .action(async (options) => run(async () => (await commands.records()).runRecordsCommand(options, io))());
}

/** `emulator`, `demo`, `doctor`, `schema`: trying kefu out and checking a setup. */
function addStartingCommands(program: Command, io: CliIo, run: RunAction): void {
  program
    .command('emulator')
    .description('start the WeChat MP + Youmi emulator and print its URL and credentials')
    .option('--port <n>', 'port (default: random)', nonNegativeInteger('--port'))
    .option('--seed <seed>', 'data seed', 'kefu')
    .option('--days <n>', 'days of history', positiveInteger('--days'))
    .option('--records-per-day <n>', 'average WeChat records per account and day', positiveInteger('--records-per-day'))
    .option('--latency-ms <n>', 'added latency per request', nonNegativeInteger('--latency-ms'))
    .option('--json', 'print URL and credentials as JSON')
    .option('--print-config', 'print a ready kefu YAML config for the emulator (ends with "...")')
    .action(async (options) => run(async () => (await commands.emulator()).runEmulatorCommand(options, io))());

  program
    .command('demo')
    .description(
      'start the emulator, sync a few days from both providers into SQLite and JSONL, print a summary, then show live pushes through kefu serve',
    )
    .option('--dir <path>', 'where to put the database and files', 'kefu-demo')
    .option('--days <n>', 'days to sync', positiveInteger('--days'), 3)
    .option('--json', 'print the summary as JSON')
    .action(async (options) => run(async () => (await commands.demo()).runDemoCommand(options, io))());

  program
    .command('doctor')
    .description('check a config file, credentials and connectivity, and say what to fix')
    .requiredOption('-c, --config <path>', 'config file')
    .option('--json', 'print the checks as JSON')
    .action(async (options) => run(async () => (await commands.doctor()).runDoctorCommand(options, io))());

  program
    .command('schema')
    .description('print the JSON Schema of kefu config files (for editor completion)')
    .action(async () => run(async () => (await commands.schema()).runSchemaCommand(io))());
}

/** `worker`: the pg-boss fleet and its admin actions. */
function addWorkerCommand(program: Command, io: CliIo, run: RunAction): void {
  program
    .command('worker')
    .description(
      'join a fleet of workers that share accounts through pg-boss on PostgreSQL and sync them; or inspect and steer the fleet (status, retry, pause, resume)',
    )
    .argument('[action]', 'run (default), status, retry, pause or resume', 'run')
    .argument('[account]', 'for retry, pause and resume: provider/account (or the account id alone)')
    .requiredOption('-c, --config <path>', 'config with providers and a PostgreSQL @kefu/sink-db sink')
    .requiredOption('--job <name>', 'job shared by the fleet (accounts, jobs and checkpoints are per job)')
    .option(
      '--concurrency <n>',
      'accounts this process syncs at once (worker.concurrency)',
      positiveInteger('--concurrency'),
    )
    .option(
      '--heartbeat-seconds <s>',
      "seconds without a heartbeat before a dead worker's account is retried elsewhere (≥ 10; worker.heartbeatSeconds)",
      positiveInteger('--heartbeat-seconds'),
    )
    .option(
      '--resync-seconds <s>',
      'resync each account this long after its last sync (worker.resyncIntervalSeconds)',
      positiveInteger('--resync-seconds'),
    )
    .option('--resync-cron <cron>', 'resync on a cron schedule instead, e.g. "*/15 * * * *" (worker.resyncCron)')
    .option(
      '--retry-limit <n>',
      'retries of a failed sync before the account is dead-lettered (worker.retryLimit)',
      nonNegativeInteger('--retry-limit'),
    )
    .option(
      '--retry-delay-seconds <s>',
      'base of the exponential back-off between retries (worker.retryDelaySeconds)',
      positiveInteger('--retry-delay-seconds'),
    )
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics at GET /metrics on this port (0 = random; worker.metricsPort)',
      nonNegativeInteger('--metrics-port'),
    )
    .option('--metrics-host <host>', 'interface of the metrics server (default 127.0.0.1)')
    .option('--once', 'stop when no account is due, running or retrying, instead of running until SIGTERM')
    .option('--from <time>', 'start of the range for accounts without a checkpoint (default 7d)')
    .option('--to <time>', 'fixed end of the range (default: now, at each claim)')
    .option('--database <sink id>', 'the @kefu/sink-db sink holding records, checkpoints and jobs')
    .option('--json', 'run: worker events as NDJSON on stdout; status: JSON even on a terminal')
    .addOption(logLevelOption('info'))
    .action(async (action: string, account: string | undefined, options) =>
      run(async () => {
        if (action === 'run') return (await commands.worker()).runWorkerCommand(options, io);
        const admin = await commands.workerAdmin();
        if (!(admin.WORKER_ADMIN_ACTIONS as readonly string[]).includes(action)) {
          throw usageError(
            `unknown worker action "${action}"`,
            `use kefu worker [run|${admin.WORKER_ADMIN_ACTIONS.join('|')}] -c <config> --job <job>`,
          );
        }
        return admin.runWorkerAdminCommand(action as WorkerAdminAction, account, options, io);
      })(),
    );
}

/** `serve` (pushes, backfill, health) and `errors` (the catalogue). */
function addServeAndErrorsCommands(program: Command, io: CliIo, run: RunAction): void {
  program
    .command('serve')
    .description(
      'receive pushes (WeChat server URL, Youmi callbacks), backfill on a schedule, serve /healthz /readyz /metrics',
    )
    .requiredOption('-c, --config <path>', 'config with providers (push / callbacks blocks), sinks and a serve block')
    .option('--host <host>', 'interface to listen on (default: serve.host, else 127.0.0.1)')
    .option('--port <n>', 'port (default: serve.port, else 8080; 0 = random)', nonNegativeInteger('--port'))
    .addOption(logLevelOption('info'))
    .action(async (options) => run(async () => (await commands.serve()).runServeCommand(options, io))());

  program
    .command('errors')
    .description('explain an error code (or list them all) with how to fix it')
    .argument('[code]', 'an error code (WECHAT_45009), or the number a platform shows (45009)')
    .option('--markdown', 'print docs/errors.md (generated from every catalogue)')
    .action(async (code: string | undefined, options) =>
      run(async () => (await commands.errors()).runErrorsCommand(code, options, io))(),
    );
}

/**
 * Builds the `kefu` program. Actions store their exit code in `result.code`; commander's
 * own usage errors become one line on stderr and exit code 2.
 * The commands are declared in the groups above, called in the order help lists them.
 */
export function buildProgram(io: CliIo, result: { code: ExitCodeValue }): Command {
  const program = new Command('kefu')
    .description('Connect customer-service (客服) platforms to the rest of your systems.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) =>
        write(`kefu: ${text.replace(/^error: /, '').trim()} — run "kefu --help" for usage\n`),
    });

  const run: RunAction = (action) => async () => {
    result.code = await action();
  };

  addReadingCommands(program, io, run);
  addStartingCommands(program, io, run);
  addWorkerCommand(program, io, run);
  addServeAndErrorsCommands(program, io, run);

  return program;
}

/** Runs the CLI with `argv` (user arguments only) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCodeValue> {
  const result: { code: ExitCodeValue } = { code: ExitCode.Ok };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; everything else commander rejects is bad input.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.Ok;
      }
      return ExitCode.BadInput;
    }
    io.stderr.write(`${formatErrorLine(error)}\n`);
    return exitCodeOf(error);
  }
}
