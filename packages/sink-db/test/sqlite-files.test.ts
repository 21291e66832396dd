import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSink } from '@kefu/sink-db';
import { makeRecords } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The SQLite file on disk: created 0600 (chat records are personal data, like tokens),
 * its -wal and -shm files too; and a full disk reported as such, with the path. The full
 * disk is real: a 1 MiB tmpfs mounted in a private mount namespace (`unshare -rm`, no
 * root needed where user namespaces are allowed), written by a child process until full.
 */

const here = dirname(fileURLToPath(import.meta.url));
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-sqlite-files-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Whether this machine lets a process mount a tmpfs in a mount namespace of its own. */
function canMountTmpfs(): { ok: boolean; reason?: string } {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "${tmpdir()}"`], {
    encoding: 'utf8',
  });
  return probe.status === 0
    ? { ok: true }
    : { ok: false, reason: `cannot mount a tmpfs with unshare -rm: ${(probe.error?.message ?? probe.stderr).trim()}` };
}
const tmpfs = canMountTmpfs();

describe('the SQLite database file', () => {
  it('given a new database, when the sink writes, then the file and its -wal and -shm files are 0600', async () => {
    const path = join(scratch, 'records.db');
    const sink = new DatabaseSink({ url: path });
    const stream = { provider: 'p', account: 'a' };
    await sink.write({
      stream,
      checkpointKey: 'job/p/a',
      records: makeRecords(3, stream),
      checkpoint: { ...stream, position: 3, skip: 0 },
    });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    }
    await sink.close();
  });

  it.skipIf(!tmpfs.ok)(
    `given a disk that fills up, when the sink writes, then the error is SINK_DB_DISK_FULL saying "disk full" and naming the file${tmpfs.reason ? ` (skipped: ${tmpfs.reason})` : ''}`,
    () => {
      const mountPoint = join(scratch, 'tiny');
      execFileSync('mkdir', ['-p', mountPoint]);
      const fixture = resolve(here, 'fixtures/disk-full-writer.mjs');
      const url = join(mountPoint, 'kefu.db');
      const output = execFileSync(
        'unshare',
        [
          '-rm',
          'sh',
          '-c',
          `mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" "$3" "$4"`,
          'sh',
          mountPoint,
          process.execPath,
          fixture,
          JSON.stringify({ url }),
        ],
        { cwd: resolve(here, '..'), encoding: 'utf8', timeout: 60_000 },
      );
      const result = JSON.parse(output.trim().split('\n').at(-1) as string) as {
        full: boolean;
        written: number;
        code: string;
        message: string;
        retryable: boolean;
      };
      expect(result.full).toBe(true);
      expect(result.written).toBeGreaterThan(0);
      expect(result.code).toBe('SINK_DB_DISK_FULL');
      expect(result.message).toMatch(new RegExp(`^disk full: writing 50 records to kefu_records on sqlite://${url}`));
      expect(result.retryable).toBe(true);
    },
  );
});
