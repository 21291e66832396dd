import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { crashSeed, integrationServer, seededRandom } from '@kefu/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPackagesBuilt, runFixture } from './support/child-runs.js';
import { beijingMidnightDaysAgo, expectedWechatIds } from './support/wechat-ground-truth.js';

/**
 * Crash/resume: a child process (test/fixtures/crash-sync.mjs, running the built dist)
 * syncs a WeChat account from the emulator and is killed with SIGKILL 20 times; after a
 * final complete run the sink equals the emulator's ground truth. Scale: ≈ 200 k records
 * (200 batches) and 20 kills per sink. Each kill lands a random time (up to 200 ms; 60 ms
 * for JSONL, which syncs several times faster) after the child committed a random 0–4
 * batches of its own: the points of progress do not depend on the machine's speed, so the
 * 20 kills always land before the data runs out, and much of it is synced across the killed
 * runs, not only by the last one.
 */
const NOW = Date.UTC(2026, 3, 20, 4, 0, 0);
const KILLS = 20;
/** Batches a killed run commits before its kill timer starts: 0 to this many. */
const MAX_BATCHES_BEFORE_KILL = 4;
const RECORDS = '≈ 200 k';
const SCENARIO_TIMEOUT_MS = 240_000;

let emulator: RunningEmulator;
let scratch: string;
const from = beijingMidnightDaysAgo(NOW, 4);
const to = beijingMidnightDaysAgo(NOW, 0);
let expected: string[];
const postgres = await integrationServer('postgres');

beforeAll(async () => {
  assertPackagesBuilt(['core', 'emulator', 'wechat-mp', 'sink-db', 'sink-file']);
  // 83 334 seeded records a day, 60 % of them chat messages: ≈ 50 k getmsglist records a day.
  emulator = await startEmulator({ seed: 'crash', now: NOW, wechat: { accounts: 1, days: 5, recordsPerDay: 83_334 } });
  scratch = mkdtempSync(join(tmpdir(), 'kefu-crash-'));
  const account = emulator.wechat.accounts[0]!;
  expected = expectedWechatIds(emulator, account.appId, from, to).sort();
});
afterAll(async () => {
  await emulator?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the child `KILLS` times with a SIGKILL at a random moment, then once to completion. */
async function killAndResume(sinkOptions: object, label: string, maxKillDelayMs = 200): Promise<number> {
  const seed = crashSeed();
  console.info(`crash/resume ${label}: seed ${seed} (replay with KEFU_CRASH_SEED=${seed})`);
  const random = seededRandom(seed);
  const account = emulator.wechat.accounts[0]!;
  const options = {
    ...sinkOptions,
    baseUrl: emulator.wechat.baseUrl,
    appId: account.appId,
    secret: account.secret,
    from: from.toISOString(),
    to: to.toISOString(),
    pageSize: 5000,
    batchSize: 1000,
  };
  let kills = 0;
  for (let attempt = 0; attempt < KILLS; attempt++) {
    const readyAfterBatches = Math.floor(random() * (MAX_BATCHES_BEFORE_KILL + 1));
    const run = await runFixture(
      'crash-sync.mjs',
      { ...options, readyAfterBatches },
      { killAfterMs: Math.floor(random() * maxKillDelayMs) },
    );
    if (run.killed) kills++;
    else {
      expect(run.code, run.stderr).toBe(0);
      break;
    }
  }
  const final = await runFixture('crash-sync.mjs', options, { timeoutMs: 180_000 });
  expect(final.code, final.stderr).toBe(0);
  expect(final.stdout).toContain('"status":"done"');
  return kills;
}

describe(`crash/resume: ${RECORDS} records, ${KILLS} SIGKILLs`, () => {
  it(
    'given SQLite, when the sync is killed at random moments and resumed, then the table equals the ground truth exactly',
    async () => {
      const path = join(scratch, 'crash.db');
      const kills = await killAndResume({ sink: 'sqlite', url: `sqlite://${path}`, table: 'records' }, 'sqlite');
      expect(kills).toBe(KILLS);
      const db = new DatabaseSync(path);
      const ids = (db.prepare('SELECT id FROM records').all() as Array<{ id: string }>).map((row) => row.id).sort();
      db.close();
      expect(ids.length).toBe(expected.length);
      expect(ids).toEqual(expected);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it.skipIf(!postgres.available)(
    'given PostgreSQL, when the sync is killed at random moments and resumed, then the table equals the ground truth exactly',
    async () => {
      const table = `crash_${process.pid}_${Date.now()}`;
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const kills = await killAndResume({ sink: 'postgres', url: postgres.url, table }, 'postgres');
        expect(kills).toBe(KILLS);
        const rows = await client.query<{ id: string }>(`SELECT id FROM "${table}"`);
        const ids = rows.rows.map((row) => row.id).sort();
        expect(ids.length).toBe(expected.length);
        expect(ids).toEqual(expected);
      } finally {
        for (const name of [table, `${table}_cp`, `${table}_migrations`])
          await client.query(`DROP TABLE IF EXISTS "${name}"`);
        await client.end();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'given JSONL (at-least-once), when the sync is killed at random moments and resumed, then every record is present and duplicates are identical lines removable by id',
    async () => {
      const dir = join(scratch, 'jsonl');
      const kills = await killAndResume(
        { sink: 'jsonl', dir, checkpointFile: join(scratch, 'checkpoints.json') },
        'jsonl',
        60,
      );
      expect(kills).toBe(KILLS);
      const byId = new Map<string, string>();
      let duplicates = 0;
      const walk = (path: string) => {
        for (const entry of readdirSync(path, { withFileTypes: true })) {
          const child = join(path, entry.name);
          if (entry.isDirectory()) walk(child);
          else if (entry.name.endsWith('.jsonl')) {
            for (const line of readFileSync(child, 'utf8').split('\n')) {
              if (!line) continue;
              const id = (JSON.parse(line) as { id: string }).id;
              const seen = byId.get(id);
              if (seen !== undefined) {
                duplicates++;
                // A duplicate is a re-delivery of the same record: removing it by id loses nothing.
                expect(line).toBe(seen);
              } else byId.set(id, line);
            }
          }
        }
      };
      walk(dir);
      console.info(`crash/resume jsonl: ${duplicates} duplicate lines after ${kills} kills`);
      expect([...byId.keys()].sort()).toEqual(expected);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
