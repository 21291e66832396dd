/**
 * @kefu/cli — the `kefu` command as a library: `runCli(argv, io)` runs it with given
 * streams (tests, embedding), the exit codes and the pieces commands are built from.
 */
export { buildProgram, runCli } from './cli.js';
export { exitCodeOf, type FailureReport, failureReport, formatErrorLine, usageError } from './cli-errors.js';
export { type CliIo, endQuietlyOnClosedPipe, processIo } from './cli-io.js';
export { BUNDLED_PLUGINS } from './commands/bundled-plugins.js';
export {
  type DemoCommandOptions,
  type DemoLiveRecord,
  type DemoLiveSummary,
  type DemoSummary,
  runDemoCommand,
} from './commands/demo-command.js';
export { exitCodeOfSummary, summaryJson, summaryText, targetSummaryLines } from './commands/sync-command.js';
export { ERROR_CATALOGUES, errorsDocument, findErrorCode } from './error-catalogues.js';
export { cliError, cliErrorCatalogue } from './errors.js';
export { ExitCode, type ExitCodeValue } from './exit-codes.js';
export { NdjsonOutput } from './ndjson-output.js';
export { type ProgressEventView, ProgressRenderer } from './progress-renderer.js';
export { MediaArchiver, type MediaArchiverOptions } from './serve/media-archiver.js';
export {
  createServeHandler,
  type ServeHandler,
  type ServeHandlerLimits,
  type ServeHandlerOptions,
} from './serve/serve-handler.js';
export { ServeMetrics } from './serve/serve-metrics.js';
export { type RunningServe, type StartServeOptions, startServe } from './serve/serve-runner.js';
export { checkTimeRange, parseTimeArgument } from './time-arguments.js';
