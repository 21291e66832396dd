#!/usr/bin/env node
// Packs every public workspace package (packages/* without "private": true) into a
// directory with `pnpm pack`, which turns `workspace:` ranges into the real versions and
// applies publishConfig (exports without the workspace-only `@kefu/source` condition).
// Prints one JSON line: [{ name, version, dir, tarball }].
//   node scripts/pack-packages.mjs <out-dir>        (run `pnpm build` first: dist/ is packed)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every public package of the workspace: its name, version and directory. */
export function publicPackages() {
  const packagesDir = join(repoRoot, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(packagesDir, entry.name))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Packs each public package into `outDir` (one recursive `pnpm pack`); returns where each tarball went. */
export function packPublicPackages(outDir) {
  mkdirSync(outDir, { recursive: true });
  const packages = publicPackages();
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name]);
  const output = execFileSync('pnpm', ['-r', ...filters, 'pack', '--json', '--pack-destination', outDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const packed = new Map(JSON.parse(output).map((entry) => [entry.name, resolve(outDir, entry.filename)]));
  return packages.map((pkg) => {
    const tarball = packed.get(pkg.name);
    if (!tarball) throw new Error(`pnpm pack did not pack ${pkg.name}`);
    return { ...pkg, tarball };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: node scripts/pack-packages.mjs <out-dir>\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(packPublicPackages(resolve(outDir)))}\n`);
}
