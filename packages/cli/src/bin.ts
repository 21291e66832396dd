#!/usr/bin/env node
// Checks the Node version before anything else is imported: on an old Node the CLI's own
// imports fail with a missing-export error that does not say what is wrong.
import { readFileSync } from 'node:fs';
import { minimumNodeVersion, nodeVersionProblem } from './node-version.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};
const problem = nodeVersionProblem(process.versions.node, minimumNodeVersion(manifest.engines.node), process.execPath);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else {
  const { runCli } = await import('./cli.js');
  process.exitCode = await runCli(process.argv.slice(2));
}
