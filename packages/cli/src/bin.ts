#!/usr/bin/env node
// Checks the Node version before anything else is imported: on an old Node the CLI's own
// imports fail with a missing-export error that does not say what is wrong.
import { readFileSync } from 'node:fs';
// A default import: a named import of what Node 20 lacks would fail before the version check.
import nodeModule from 'node:module';
import { heapFlagsToAdd, restartEnvironment } from './memory-defaults.js';
import { minimumNodeVersion, nodeVersionProblem } from './node-version.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};
const problem = nodeVersionProblem(process.versions.node, minimumNodeVersion(manifest.engines.node), process.execPath);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else {
  restartWithHeapDefaults();
  // The CLI loads about 3.6 MB of JavaScript (undici, zod, rxjs, …) at every start; V8's
  // compiled code cached on disk (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE;
  // NODE_DISABLE_COMPILE_CACHE=1 turns it off) took `kefu --version` from 0.37 to 0.27 s.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { runCli } = await import('./cli.js');
  process.exitCode = await runCli(process.argv.slice(2));
}

/**
 * Replaces this process (same PID, stdio and signals) with one that has the CLI's heap
 * defaults (memory-defaults.ts), before anything is loaded. Node < 23.11 has no
 * process.execve: there the defaults are not applied (NODE_OPTIONS still works).
 */
function restartWithHeapDefaults(): void {
  const flags = heapFlagsToAdd(process.execArgv, process.env);
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (flags.length === 0 || typeof execve !== 'function' || process.platform === 'win32') return;
  const args = [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)];
  execve(process.execPath, args, restartEnvironment(process.env));
}
