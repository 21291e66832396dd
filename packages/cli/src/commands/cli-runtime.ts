import { resolve } from 'node:path';
import { createJsonLogger, type Kefu, type KefuLogger, type LogLevel, loadKefu } from '@kefu/core';
import type { CliIo } from '../cli-io.js';
import { BUNDLED_PLUGINS } from './bundled-plugins.js';

/** A structured JSON logger on the CLI's stderr (or on `write`, which gets each line without its newline). */
export function cliLogger(io: CliIo, level: LogLevel, write?: (line: string) => void): KefuLogger {
  return createJsonLogger({ level, write: write ?? ((line) => io.stderr.write(`${line}\n`)) });
}

/** A command's `--log-level` flag (unset when not given) and its default. */
export interface LogLevelChoice {
  flag: LogLevel | undefined;
  fallback: LogLevel;
  /** Where log lines go instead of stderr (the sync's progress block prints them above itself). */
  write?: (line: string) => void;
}

function isLogLevelChoice(value: KefuLogger | LogLevelChoice): value is LogLevelChoice {
  return 'fallback' in value;
}

/**
 * The level a command logs at: its `--log-level` flag, else the config's `logger.level`,
 * else the command's own default.
 */
export function effectiveLogLevel(
  flag: LogLevel | undefined,
  fileLevel: LogLevel | undefined,
  fallback: LogLevel,
): LogLevel {
  return flag ?? fileLevel ?? fallback;
}

/**
 * Loads the runtime from a config file given relative to the CLI's working directory, with
 * a JSON logger on stderr at {@link effectiveLogLevel} (or the logger given). Plugins
 * installed next to the config win; the built-in ones come with the CLI.
 */
export function loadCliRuntime(configPath: string, io: CliIo, logger: KefuLogger | LogLevelChoice): Promise<Kefu> {
  return loadKefu(resolve(io.cwd, configPath), {
    logger: isLogLevelChoice(logger)
      ? (fileLevel) => cliLogger(io, effectiveLogLevel(logger.flag, fileLevel, logger.fallback), logger.write)
      : logger,
    env: io.env,
    bundledPlugins: BUNDLED_PLUGINS,
  });
}
