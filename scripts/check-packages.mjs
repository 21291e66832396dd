#!/usr/bin/env node
// Checks what would be published: packs every public package (scripts/pack-packages.mjs)
// and runs publint (strict: warnings fail too) and Are the Types Wrong (attw) on each
// tarball. attw runs with its `esm-only` profile: the packages are ES modules only, and
// Node ≥ 22.12 loads them with require() too (see CONTRIBUTING.md, "Releasing").
//   node scripts/check-packages.mjs [<dir for the tarballs>]     (run `pnpm build` first)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packPublicPackages } from './pack-packages.mjs';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(repoRoot, 'node_modules', '.bin', name);

/** Runs a checker on a tarball; resolves with its output and whether it passed. */
async function check(tool, args) {
  try {
    const { stdout, stderr } = await run(bin(tool), args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    return {
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}${error.stdout || error.stderr ? '' : error.message}`,
    };
  }
}

const keep = process.argv[2] !== undefined;
const outDir = keep ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), 'kefu-check-packages-'));
let failed = 0;
try {
  const packed = packPublicPackages(outDir);
  // Two at a time: attw loads TypeScript for each tarball (about 1.5 s of CPU).
  const queue = [...packed];
  const results = [];
  await Promise.all(
    [0, 1].map(async () => {
      for (let pkg = queue.shift(); pkg; pkg = queue.shift()) {
        const publint = await check('publint', ['run', '--strict', pkg.tarball]);
        const attw = await check('attw', ['--profile', 'esm-only', '--format', 'ascii', '--no-color', pkg.tarball]);
        results.push({ pkg, publint, attw });
      }
    }),
  );
  results.sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
  for (const { pkg, publint, attw } of results) {
    const ok = publint.ok && attw.ok;
    if (!ok) failed += 1;
    process.stdout.write(
      `${ok ? '✓' : '✗'} ${pkg.name}@${pkg.version}  publint ${publint.ok ? 'ok' : 'FAILED'}, attw ${attw.ok ? 'ok' : 'FAILED'}\n`,
    );
    if (!publint.ok) process.stdout.write(`${publint.output.trim()}\n`);
    if (!attw.ok) process.stdout.write(`${attw.output.trim()}\n`);
  }
  process.stdout.write(
    failed === 0
      ? `all ${results.length} packages pass publint and attw${keep ? `; tarballs in ${outDir}` : ''}\n`
      : `${failed} of ${results.length} packages have problems\n`,
  );
} finally {
  if (!keep) rmSync(outDir, { recursive: true, force: true });
}
process.exitCode = failed === 0 ? 0 : 1;
