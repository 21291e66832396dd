import { kefuConfigJsonSchema } from '@kefu/core';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { loadBundledPlugins } from './bundled-plugins.js';

/** `kefu schema`: the config file's JSON Schema, bundled plugins' settings included. */
export async function runSchemaCommand(io: CliIo): Promise<ExitCodeValue> {
  io.stdout.write(`${JSON.stringify(kefuConfigJsonSchema(await loadBundledPlugins()), null, 2)}\n`);
  return ExitCode.Ok;
}
