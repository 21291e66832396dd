import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist/cli-bench.js');

// A smoke test of the script, not a benchmark: no figure is checked, only that both sides
// ran over the same records and the table came out. It runs the built files (`pnpm build`).
describe('cli-bench', () => {
  it('given a tiny account, when run for JSONL and SQLite, then it prints one row per target with a ratio', async () => {
    expect(existsSync(dist), 'run pnpm build first').toBe(true);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [dist, '--records', '300', '--targets', 'jsonl,sqlite'],
      { timeout: 120_000 },
    );
    const rows = stdout.split('\n').filter((line) => /^\| (jsonl|sqlite) \|/.test(line));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/\| \d[\d ]* \| .* MiB \| .* MiB \| \d+\.\d\d \|$/);
  }, 150_000);
});
