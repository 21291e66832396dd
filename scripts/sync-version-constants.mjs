#!/usr/bin/env node
// After `changeset version` bumps package.json versions: writes the new versions into the
// two places the code states them, @kefu/core's CORE_VERSION (compared when plugins load;
// a constant, so core still works bundled) and the `kefu --version` of the CLI.
// Tests hold both equal to package.json, so a release that skips this step fails CI.
//   node scripts/sync-version-constants.mjs            writes them
//   node scripts/sync-version-constants.mjs --check    only says whether they are equal (exit 1 if not)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const versionOf = (pkg) => JSON.parse(readFileSync(join(repoRoot, 'packages', pkg, 'package.json'), 'utf8')).version;

const constants = [
  {
    file: 'packages/core/src/plugin.ts',
    pattern: /(export const CORE_VERSION = ')[^']*(';)/,
    version: versionOf('core'),
  },
  { file: 'packages/cli/src/cli.ts', pattern: /(\.version\(')[^']*('\))/, version: versionOf('cli') },
];

const checkOnly = process.argv.includes('--check');
let differing = 0;
for (const { file, pattern, version } of constants) {
  const path = join(repoRoot, file);
  const text = readFileSync(path, 'utf8');
  const current = pattern.exec(text);
  if (!current) throw new Error(`${file}: no version constant matching ${pattern}; update this script`);
  const updated = text.replace(pattern, `$1${version}$2`);
  if (updated === text) {
    process.stdout.write(`${file}: ${version} (equal to package.json)\n`);
  } else if (checkOnly) {
    differing += 1;
    process.stdout.write(
      `${file}: differs from package.json ${version}; run node scripts/sync-version-constants.mjs\n`,
    );
  } else {
    writeFileSync(path, updated);
    process.stdout.write(`${file}: ${version} (written)\n`);
  }
}
process.exitCode = differing === 0 ? 0 : 1;
