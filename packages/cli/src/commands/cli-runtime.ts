import { resolve } from 'node:path';
import { createJsonLogger, type Kefu, type KefuLogger, type LogLevel, loadKefu } from '@kefu/core';
import type { CliIo } from '../cli.js';
import { BUNDLED_PLUGINS } from './bundled-plugins.js';

/** A structured JSON logger on the CLI's stderr. */
export function cliLogger(io: CliIo, level: LogLevel): KefuLogger {
  return createJsonLogger({ level, write: (line) => io.stderr.write(`${line}\n`) });
}

/**
 * Loads the runtime from a config file given relative to the CLI's working directory.
 * Plugins installed next to the config win; the built-in ones come with the CLI.
 */
export function loadCliRuntime(configPath: string, io: CliIo, logger: KefuLogger): Promise<Kefu> {
  return loadKefu(resolve(io.cwd, configPath), { logger, env: io.env, bundledPlugins: BUNDLED_PLUGINS });
}
