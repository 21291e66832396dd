import { resolve } from 'node:path';
import {
  hasCapability,
  isConnectionLoss,
  isKefuError,
  type Kefu,
  type KefuProvider,
  readKefuConfigFile,
  redactText,
  silentLogger,
} from '@kefu/core';
import { exitCodeOf, failureReport } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { loadCliRuntime } from './cli-runtime.js';

/** Flags of `kefu doctor`. */
export interface DoctorCommandOptions {
  config: string;
  json?: boolean;
}

/** What kind of problem a failed check found, so each reads differently. */
export type DoctorProblem =
  | 'YAML syntax'
  | 'JSON syntax'
  | 'invalid config'
  | 'plugin not installed'
  | 'unreachable'
  | 'credentials refused'
  | 'not found'
  | 'failed';

/** One check's outcome. */
interface DoctorCheck {
  name: string;
  ok: boolean;
  /** False when the component has no probe: configured, but nothing was tried. */
  probed?: boolean;
  problem?: DoctorProblem;
  message: string;
  fix?: string;
  code?: string;
}

/** Credential errors of platforms that say so only by their own code (the rest end in _AUTH_FAILED / _REJECTED). */
const REFUSED_CREDENTIAL_CODES = new Set(['WECHAT_40001', 'WECHAT_40013', 'WECHAT_40125', 'WECHAT_40164']);

/**
 * The kind of problem an error shows, from its code and shape (generic: no provider's
 * probe is special-cased): a file that does not parse, a package that is not installed, a
 * server that cannot be reached, credentials it refused, something it does not have.
 */
export function doctorProblem(error: unknown): DoctorProblem {
  if (!isKefuError(error)) return isConnectionLoss(error) ? 'unreachable' : 'failed';
  const { code, details } = error;
  if (code === 'KEFU_CONFIG_INVALID' && (details.format === 'YAML' || details.format === 'JSON')) {
    return `${details.format} syntax`;
  }
  if (code === 'KEFU_PLUGIN_NOT_FOUND') return 'plugin not installed';
  if (code.endsWith('_CONFIG_INVALID')) return 'invalid config';
  const status = details.status;
  if (
    code.endsWith('_AUTH_FAILED') ||
    code.endsWith('_REJECTED') ||
    REFUSED_CREDENTIAL_CODES.has(code) ||
    status === 401 ||
    status === 403
  ) {
    return 'credentials refused';
  }
  if (code.endsWith('_NOT_FOUND')) return 'not found';
  if (
    code.endsWith('_UNAVAILABLE') ||
    code.endsWith('_UNREACHABLE') ||
    code.endsWith('_TIMEOUT') ||
    code === 'KEFU_HTTP_NETWORK' ||
    isConnectionLoss(error)
  ) {
    return 'unreachable';
  }
  return 'failed';
}

function failed(name: string, error: unknown): DoctorCheck {
  const problem = doctorProblem(error);
  if (isKefuError(error)) {
    const report = failureReport(error);
    return {
      name,
      ok: false,
      problem,
      message: report.message,
      code: report.code,
      ...(report.fix ? { fix: report.fix } : {}),
    };
  }
  return { name, ok: false, problem, message: redactText(error instanceof Error ? error.message : String(error)) };
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
          checks.push(
            sink.check
              ? { name, ok: true, message: 'connected: ready to accept data' }
              : { name, ok: true, probed: false, message: 'configured; this sink has no probe, so nothing was tried' },
          );
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
      // ✓ tried and working, • configured but not tried, ✗ tried and failing.
      const mark = !check.ok ? '✗' : check.probed === false ? '•' : '✓';
      const problem = check.problem ? `${check.problem}: ` : '';
      const fix = check.fix ? `\n    fix: ${check.fix}` : '';
      io.stdout.write(
        `${mark} ${check.name.padEnd(24)} ${problem}${check.message}${check.code ? ` [${check.code}]` : ''}${fix}\n`,
      );
    }
  }
  return exitCode;
}
