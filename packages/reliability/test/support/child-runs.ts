import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildRun, runKillableChild } from '@kefu/testkit';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..', '..');

/**
 * Fails loudly when a fixture cannot run: fixtures import the packages' built dist, which
 * `pnpm test` builds first (`pnpm build` when running this package alone).
 */
export function assertPackagesBuilt(packages: readonly string[]): void {
  const missing = packages.filter((name) => !existsSync(join(packageDir, '..', name, 'dist', 'index.js')));
  if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')}; run \`pnpm build\` first`);
}

/**
 * Runs `node <fixture> <json>` from this package; with `killAfterMs` it gets SIGKILL that
 * long after it prints `"ready":true` (unless it finished before). `timeoutMs` bounds every run.
 */
export function runFixture(
  fixture: string,
  options: object,
  { killAfterMs, timeoutMs = 60_000 }: { killAfterMs?: number; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return runKillableChild(join(here, '..', 'fixtures', fixture), [JSON.stringify(options)], {
    cwd: packageDir,
    timeoutMs,
    ...(killAfterMs === undefined ? {} : { killAfterReadyMs: killAfterMs }),
  });
}
