import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@kefu/testkit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FileSinkConfigInput, repairOutputFile } from '../src/index.js';
import { listFiles, readAllRecords } from './read-output.js';

// The writer runs as a real child process killed with SIGKILL, so it imports the built
// package (dist/). `pnpm test` builds first; when running vitest alone, build with
// `pnpm tsc -b packages/sink-file`.
const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, 'fixtures/crash-writer.mjs');
const dist = join(here, '../dist/index.js');

/** Runs the writer until it has acknowledged `acksBeforeKill` batches, waits `extraMs`, then SIGKILLs it. */
function runAndKill(dir: string, config: object, firstBatch: number, acksBeforeKill: number, extraMs: number) {
  return new Promise<number[]>((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, JSON.stringify(config), String(firstBatch)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: number[] = [];
    let stderr = '';
    let buffered = '';
    let killing = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acks.push(Number(line.slice(4)));
      if (!killing && acks.length >= acksBeforeKill) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), extraMs);
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(acks);
    });
  });
}

let dir: string;
beforeAll(() => {
  if (!existsSync(dist))
    throw new Error('packages/sink-file/dist is missing: run `pnpm tsc -b packages/sink-file` first');
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-sink-file-kill-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kinds: Array<[string, Omit<FileSinkConfigInput, 'dir'>]> = [
  ['jsonl, fsync per batch', {}],
  ['csv gzip, size rotation', { format: 'csv', gzip: true, maxBytes: 20_000 }],
  ['jsonl, interval fsync', { fsync: 'interval', fsyncIntervalMs: 3 }],
];

describe.each(kinds)('kill -9 while writing (%s)', (_name, config) => {
  it('given a writer killed at random moments, when the files are reopened, then they parse and hold every acknowledged batch', async () => {
    const random = seededRandom(42);
    const acknowledged = new Set<number>();
    // The batch each killed run may have been appending: the one after its last ack.
    const inFlight = new Set<number>();
    let nextBatch = 0;
    for (let round = 0; round < 4; round++) {
      const acks = await runAndKill(dir, config, nextBatch, 1 + Math.floor(random() * 15), Math.floor(random() * 8));
      for (const batch of acks) acknowledged.add(batch);
      inFlight.add(acks.length > 0 ? Math.max(...acks) + 1 : nextBatch);
      // The next run starts after anything the killed one may have written, acknowledged or not.
      nextBatch += 10_000;

      // Reopen: cut torn tails as the sink does on open, then every file must parse.
      for (const path of await listFiles(dir))
        await repairOutputFile(path, { format: config.format ?? 'jsonl', gzip: config.gzip ?? false });
      const records = await readAllRecords(dir); // throws if any file does not parse
      const stored = new Set(records.map((r) => r.id));
      for (const batch of acknowledged)
        for (let index = 0; index < 25; index++) expect(stored.has(`b${batch}-r${index}`)).toBe(true);
      // A kill can stop an append between pages (Linux checks for fatal signals there), so
      // complete lines of the batch in flight may stay: at-least-once, removable by id. Any
      // other batch is complete or absent.
      const perBatch = new Map<number, number>();
      for (const record of records) {
        const batch = Number(record.id.slice(1, record.id.indexOf('-')));
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      for (const [batch, count] of perBatch) {
        if (count % 25 !== 0) expect(inFlight.has(batch) && !acknowledged.has(batch), `batch ${batch}`).toBe(true);
      }
    }
    expect(acknowledged.size).toBeGreaterThan(3);
    // How often a kill tears an append depends on timing; byte-exact torn tails are in crash-repair.test.ts.
  });
});
