import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { type ChildRun, runKillableChild } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPackagesBuilt } from './support/child-runs.js';
import { summaryOfStderr } from './support/sync-summary.js';
import { beijingMidnightDaysAgo, expectedWechatRecords } from './support/wechat-ground-truth.js';

/**
 * A poison record: one getmsglist record arrives with an empty openid, which the record
 * schema refuses (`customer` must not be empty). The emulator serves only well-formed
 * records, so a loopback proxy in front of it empties that one field — the only faked
 * part; the platform data, the provider and `kefu sync` are real. By default the account
 * fails on every run, saying why and how to get past it; with `onInvalidRecord:
 * dead-letter` the run finishes, the record lands in a 0600 dead-letter file with its raw
 * payload and reason, and the table holds every other record, once.
 */

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../../cli/dist/bin.js');
const NOW = Date.UTC(2026, 3, 20, 4, 0, 0);
const from = beijingMidnightDaysAgo(NOW, 3);
const to = beijingMidnightDaysAgo(NOW, 0);

let emulator: RunningEmulator;
let proxy: Server;
let proxyUrl: string;
let scratch: string;
let poisoned: { id: string; raw: { openid: string; time: number } };
let expectedIds: string[];

beforeAll(async () => {
  assertPackagesBuilt(['core', 'cli', 'emulator', 'wechat-mp', 'sink-db']);
  emulator = await startEmulator({ seed: 'poison', now: NOW, wechat: { accounts: 1, days: 4, recordsPerDay: 600 } });
  scratch = mkdtempSync(join(tmpdir(), 'kefu-poison-'));
  const appId = emulator.wechat.accounts[0]!.appId;
  const records = expectedWechatRecords(emulator, appId, from, to);
  // A record in the middle of the second day, so records before and after it are at stake.
  const secondDay = records.filter((record) => record.raw.time * 1000 >= from.getTime() + 86_400_000);
  poisoned = secondDay[Math.floor(secondDay.length / 2)]!;
  expectedIds = records
    .filter((record) => record !== poisoned)
    .map((record) => record.id)
    .sort();

  proxy = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await fetch(`${emulator.wechat.baseUrl}${request.url}`, {
      method: request.method ?? 'GET',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    let body = await answer.text();
    if (request.url?.includes('/getmsglist')) {
      const page = JSON.parse(body) as { recordlist?: Array<{ openid: string; time: number }> };
      for (const record of page.recordlist ?? []) {
        if (record.time === poisoned.raw.time && record.openid === poisoned.raw.openid) record.openid = '';
      }
      body = JSON.stringify(page);
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((listening) => proxy.listen(0, '127.0.0.1', listening));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise<void>((closed) => (proxy ? proxy.close(() => closed()) : closed()));
  await emulator?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function kefu(args: string[]): Promise<ChildRun> {
  return runKillableChild(BIN, args, { cwd: scratch });
}

function writeConfig(name: string, sync: Record<string, unknown>): string {
  const path = join(scratch, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      providers: [
        {
          use: '@kefu/wechat-mp',
          id: 'wx',
          config: { baseUrl: proxyUrl, accounts: emulator.wechat.accounts, pageSize: 200 },
        },
      ],
      sinks: [{ use: '@kefu/sink-db', id: 'db', config: { url: `./${name}.db` } }],
      checkpoints: { use: 'sink', sink: 'db' },
      sync: { batchSize: 100, ...sync },
    }),
  );
  return path;
}

function storedIds(name: string): string[] {
  const db = new DatabaseSync(join(scratch, `${name}.db`), { readOnly: true });
  try {
    return (db.prepare('SELECT id FROM kefu_records').all() as Array<{ id: string }>).map((row) => row.id).sort();
  } finally {
    db.close();
  }
}

const range = ['--from', from.toISOString(), '--to', to.toISOString()];

describe('a poison record', () => {
  it('given the default policy, when syncing twice, then the account fails both times naming KEFU_RECORD_INVALID, the field and how to sync past it', async () => {
    const config = writeConfig('fail', {});
    for (let attempt = 0; attempt < 2; attempt++) {
      const run = await kefu(['sync', '-c', config, ...range]);
      expect(run.code).toBe(1);
      const summary = summaryOfStderr(run.stderr);
      expect(summary).toMatchObject({ level: 'error', failed: 1 });
      expect(summary.targets[0]).toMatchObject({
        status: 'failed',
        error: {
          code: 'KEFU_RECORD_INVALID',
          message: expect.stringMatching(/^provider wechat-mp emitted an invalid record \S+ on \S+: customer: /),
          fix: expect.stringContaining('`sync.onInvalidRecord: dead-letter`'),
        },
      });
    }
    // Everything before the poison record was committed, nothing after it.
    const stored = storedIds('fail');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(expectedIds.length);
  });

  it('given onInvalidRecord: dead-letter, when syncing, then the run is done, the record is in a 0600 dead-letter file with its payload and reason, and the table holds every other record once', async () => {
    const config = writeConfig('dead', { onInvalidRecord: 'dead-letter', deadLetterPath: './dead-letter.jsonl' });
    const run = await kefu(['sync', '-c', config, ...range]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(summaryOfStderr(run.stderr).targets[0]).toMatchObject({
      status: 'done',
      provider: 'wx',
      account: emulator.wechat.accounts[0]!.appId,
      invalidRecords: 1,
    });
    const path = join(scratch, 'dead-letter.jsonl');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      target: `wx/${emulator.wechat.accounts[0]!.appId}`,
      reason: expect.stringMatching(/^customer: /),
      record: { customer: '', raw: { openid: '', time: poisoned.raw.time } },
    });
    expect(Date.parse(lines[0].at)).not.toBeNaN();
    expect(storedIds('dead')).toEqual(expectedIds);

    // A re-run passes the record by its checkpoint: no second dead letter, nothing new.
    const again = await kefu(['sync', '-c', config, ...range, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).targets[0]).toMatchObject({ status: 'done', records: 0, invalidRecords: 0 });
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('given onInvalidRecord: skip, when syncing, then the run is done and counts the record in the JSON summary', async () => {
    const config = writeConfig('skip', { onInvalidRecord: 'skip' });
    const run = await kefu(['sync', '-c', config, ...range, '--json']);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(run.stdout).targets[0]).toMatchObject({ status: 'done', invalidRecords: 1 });
    expect(storedIds('skip')).toEqual(expectedIds);
  });
});
