import { dirname, resolve } from 'node:path';
import { type LogLevel, readKefuConfigFile } from '@kefu/core';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { startServe } from '../serve/serve-runner.js';
import { loadCliRuntime } from './cli-runtime.js';

/** Flags of `kefu serve`. */
export interface ServeCommandOptions {
  config: string;
  host?: string;
  port?: number;
  logLevel?: LogLevel;
}

/**
 * `kefu serve`: push receivers, spool, scheduled backfill and health/metrics endpoints in
 * one process, until SIGTERM or SIGINT, which stop it gracefully (exit 0).
 */
export async function runServeCommand(options: ServeCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const configPath = resolve(io.cwd, options.config);
  const file = await readKefuConfigFile(configPath, { env: io.env });
  const kefu = await loadCliRuntime(options.config, io, { flag: options.logLevel, fallback: 'info' });
  try {
    const running = await startServe({
      kefu,
      ...(file.serve ? { serve: file.serve } : {}),
      baseDir: dirname(configPath),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
    io.stdout.write(`kefu serve listening on ${running.url}\n`);
    await new Promise<void>((resolvePromise) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolvePromise();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await running.close();
    return ExitCode.Ok;
  } finally {
    await kefu.close();
  }
}
