import { resolve } from 'node:path';
import {
  hasCapability,
  isKefuError,
  type Kefu,
  type KefuProvider,
  readKefuConfigFile,
  redactText,
  silentLogger,
} from '@kefu/core';
import type { CliIo } from '../cli.js';
import { exitCodeOf } from '../cli-errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { loadCliRuntime } from './cli-runtime.js';

/** Flags of `kefu doctor`. */
export interface DoctorCommandOptions {
  config: string;
  json?: boolean;
}

/** One check's outcome. */
interface DoctorCheck {
  name: string;
  ok: boolean;
  message: string;
  fix?: string;
  code?: string;
}

function failed(name: string, error: unknown): DoctorCheck {
  if (isKefuError(error)) {
    return { name, ok: false, message: error.message, code: error.code, ...(error.fix ? { fix: error.fix } : {}) };
  }
  return { name, ok: false, message: redactText(error instanceof Error ? error.message : String(error)) };
}

/** Proves credentials and connectivity: the provider's own check, else a harmless read. */
async function probeProvider(provider: KefuProvider): Promise<void> {
  if (provider.check) return provider.check();
  for (const account of provider.accounts()) {
    if (hasCapability(provider, 'agents')) {
      await provider.listAgents(account);
      continue;
    }
    const to = new Date();
    const from = new Date(to.getTime() - 3_600_000);
    const pages = provider.records({ account, from, to }).pages();
    await pages.next();
    await pages.return(undefined);
  }
}

/** `kefu doctor`: config, plugins, credentials, connectivity — and what to fix. */
export async function runDoctorCommand(options: DoctorCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const checks: DoctorCheck[] = [];
  let exitCode: ExitCodeValue = ExitCode.Ok;
  let kefu: Kefu | undefined;
  try {
    const config = await readKefuConfigFile(resolve(io.cwd, options.config), { env: io.env });
    checks.push({
      name: 'config',
      ok: true,
      message: `${options.config} is valid: ${config.providers.length} provider(s), ${config.sinks.length} sink(s)`,
    });
    kefu = await loadCliRuntime(options.config, io, silentLogger);
    checks.push({ name: 'plugins', ok: true, message: 'every plugin loaded and its config validated' });
  } catch (error) {
    checks.push(failed(checks.length === 0 ? 'config' : 'plugins', error));
    exitCode = exitCodeOf(error);
  }
  if (kefu) {
    try {
      for (const provider of kefu.providers()) {
        const name = `provider ${provider.id}`;
        try {
          await probeProvider(provider);
          checks.push({ name, ok: true, message: `credentials accepted for ${provider.accounts().length} account(s)` });
        } catch (error) {
          checks.push(failed(name, error));
          exitCode = ExitCode.Failed;
        }
      }
      for (const sink of kefu.sinks()) {
        const name = `sink ${sink.id}`;
        try {
          await sink.check?.();
          checks.push({
            name,
            ok: true,
            message: sink.check ? 'ready to accept data' : 'configured (no probe available)',
          });
        } catch (error) {
          checks.push(failed(name, error));
          exitCode = ExitCode.Failed;
        }
      }
      try {
        await kefu.checkpointStore.load('kefu-doctor/probe');
        checks.push({ name: 'checkpoints', ok: true, message: 'checkpoint store readable' });
      } catch (error) {
        checks.push(failed('checkpoints', error));
        exitCode = ExitCode.Failed;
      }
    } finally {
      await kefu.close();
    }
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ok: exitCode === ExitCode.Ok, checks })}\n`);
  } else {
    for (const check of checks) {
      const fix = check.fix ? `\n    fix: ${check.fix}` : '';
      io.stdout.write(
        `${check.ok ? '✓' : '✗'} ${check.name.padEnd(24)} ${check.message}${check.code ? ` [${check.code}]` : ''}${fix}\n`,
      );
    }
  }
  return exitCode;
}
