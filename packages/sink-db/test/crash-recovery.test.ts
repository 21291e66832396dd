import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildRun, crashSeed, runKillableChild, seededRandom } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSink } from '../src/index.js';
// @ts-expect-error -- plain .mjs shared with the child process, no type declarations.
import { SYNTHETIC_STREAM, syntheticRecord } from './fixtures/synthetic-source.mjs';
import { testDatabases, uniqueTableName } from './support/databases.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const fixture = join(here, 'fixtures', 'crash-writer.mjs');
const databases = await testDatabases();
afterAll(async () => {
  for (const database of databases) await database.dispose();
});

/**
 * Fails loudly when the child cannot run: it imports the built dist, which `pnpm test`
 * builds first (`pnpm tsc -b packages/sink-db` when running this file alone).
 */
function assertDistIsBuilt(): void {
  const missing = readdirSync(join(packageDir, 'src'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join('dist', file.replace(/\.ts$/, '.js')))
    .filter((file) => !existsSync(join(packageDir, file)));
  if (missing.length > 0) {
    throw new Error(`packages/sink-db is not built (${missing.join(', ')} missing): run \`pnpm build\` first`);
  }
}

/** Runs the writer; with `killAfterMs` it is sent SIGKILL that long after it reports ready, unless it finished before. */
function runWriter(options: object, killAfterMs?: number): Promise<ChildRun> {
  return runKillableChild(fixture, [JSON.stringify(options)], {
    cwd: packageDir,
    ...(killAfterMs === undefined ? {} : { killAfterReadyMs: killAfterMs }),
  });
}

const TOTAL = 2000;
const KILLS = 5;

for (const database of databases) {
  describe.skipIf(!database.available)(`crash recovery on ${database.dialect}`, () => {
    const table = uniqueTableName('crash');
    const checkpointTable = `${table}_cp`;

    beforeAll(() => assertDistIsBuilt());
    afterAll(async () => {
      await database.dropTables([table, checkpointTable, `${table}_migrations`]);
    });

    it('given a writer killed with SIGKILL at random moments and restarted, when it completes, then the table equals the ground truth', async () => {
      // Seeded so a failure can be replayed: KEFU_CRASH_SEED=<seed printed below>.
      const seed = crashSeed();
      console.info(`crash test on ${database.dialect}: seed ${seed}`);
      const random = seededRandom(seed);
      const options = {
        url: database.url,
        table,
        checkpointTable,
        seed,
        total: TOTAL,
        // Batches cut across pages, so checkpoints inside a page (skip > 0) are exercised too.
        pageSize: 50,
        batchSize: 35,
        // 40 pages × 5 ms: a complete run lasts ≥ 200 ms, longer than any kill delay below,
        // so every run is killed mid-way even on an idle machine with a fast database.
        pageDelayMs: 5,
      };

      let kills = 0;
      let completed: ChildRun | undefined;
      for (let attempt = 0; attempt < KILLS; attempt++) {
        const result = await runWriter(options, 10 + Math.floor(random() * 180));
        if (result.killed) kills++;
        else {
          expect(result.code, result.stderr).toBe(0);
          completed = result;
          break;
        }
      }
      completed ??= await runWriter(options);
      expect(completed.code, completed.stderr).toBe(0);
      expect(completed.stdout).toContain('"done":true');
      expect(kills).toBeGreaterThan(0);
      console.info(`crash test on ${database.dialect}: ${kills} SIGKILLs before completion`);

      const sink = new DatabaseSink({ url: database.url, table, checkpointTable });
      try {
        const stored = [];
        let after: { at: string; provider: string; account: string; id: string } | undefined;
        for (;;) {
          const page = await sink.queryRecords({ limit: 1000, ...(after ? { after } : {}) });
          stored.push(...page);
          if (page.length < 1000) break;
          after = page.at(-1);
        }
        const truth = Array.from({ length: TOTAL }, (_, n) => syntheticRecord(seed, n));
        expect(await sink.countRecords()).toBe(TOTAL);
        expect(new Set(stored.map((record) => record.id)).size).toBe(TOTAL);
        expect(stored).toEqual(truth);
        const checkpoint = await sink.load(`crash-job/${SYNTHETIC_STREAM.provider}/${SYNTHETIC_STREAM.account}`);
        expect(checkpoint).toMatchObject({ position: { page: TOTAL / options.pageSize }, skip: 0 });
      } finally {
        await sink.close();
      }
    }, 60_000);
  });
}
