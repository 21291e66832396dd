// CPU per `FileCheckpointStore.save` (what a sync pays once per batch): `saves` saves of
// one key in a file holding `keys` realistic getmsglist checkpoints, process.cpuUsage (user
// + system of every thread: the fsyncs run on libuv's pool) before and after, `rounds`
// times; prints each round and the median. `--stages` also times each step of the former
// save alone (read, parse, validate, stringify, mkdir, temp file + fsync, rename, fsync of the
// directory), `saves` times each. Imports the built dist; writes under the OS temp directory.
// Usage: node scripts/checkpoint-save.mjs [saves=1000] [keys=4] [rounds=5] [--stages]
// (node --cpu-prof --cpu-prof-dir=DIR scripts/checkpoint-save.mjs profiles it.)

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointFileSchema, FileCheckpointStore } from '@kefu/core';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const stages = process.argv.includes('--stages');
const saves = Number(args[0] ?? 1000);
const keys = Number(args[1] ?? 4);
const rounds = Number(args[2] ?? 5);

/** A checkpoint as `kefu sync` stores it for a getmsglist stream after `n` batches. */
function checkpoint(account, n) {
  const windowStart = 1_767_225_600 + n * 60;
  return {
    provider: 'wechat-mp',
    account,
    position: {
      api: 'msglist',
      windowStart,
      msgid: 1_000_000 + n * 1000,
      boundary: (n * 7919).toString(16).padStart(16, '0'),
      seen: { t: windowStart + 59, c: { [`${(n * 31).toString(16).padStart(16, '0')}`]: 1 } },
    },
    skip: 0,
    recordAt: new Date((windowStart + 59) * 1000).toISOString(),
    requested: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
  };
}

const key = (k) => `default/wechat-mp/wx${k.toString(16).padStart(16, '0')}`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

/** CPU (user, system) and wall microseconds per call of `work(i)`, `count` calls. */
async function measure(count, work) {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) await work(i);
  const used = process.cpuUsage(cpu);
  return {
    userUs: +(used.user / count).toFixed(1),
    systemUs: +(used.system / count).toFixed(1),
    cpuUs: +((used.user + used.system) / count).toFixed(1),
    wallUs: +(((performance.now() - wall) * 1000) / count).toFixed(1),
  };
}

async function saveRound(dir, round) {
  const path = join(dir, `r${round}`, 'checkpoints.json');
  const store = new FileCheckpointStore({ path });
  for (let k = 0; k < keys; k++) await store.save(key(k), checkpoint(`wx${k}`, 1));
  // Warm up, then measure saves of one key as a sync does.
  for (let i = 0; i < 50; i++) await store.save(key(0), checkpoint('wx0', i + 2));
  const result = await measure(saves, (i) => store.save(key(0), checkpoint('wx0', i + 100)));
  await store.close();
  return result;
}

/** The steps the save of kefu before this change made, each alone. */
async function stageRound(dir) {
  const path = join(dir, 'stages', 'checkpoints.json');
  const store = new FileCheckpointStore({ path });
  for (let k = 0; k < keys; k++) await store.save(key(k), checkpoint(`wx${k}`, 1));
  const text = await readFile(path, 'utf8');
  const json = JSON.parse(text);
  const file = CheckpointFileSchema.parse(json);
  const directory = join(dir, 'stages');
  const out = `${JSON.stringify(file, null, 2)}\n`;
  const result = {
    readFile: await measure(saves, () => readFile(path, 'utf8')),
    'JSON.parse': await measure(saves, () => JSON.parse(text)),
    'CheckpointFileSchema.parse': await measure(saves, () => CheckpointFileSchema.parse(json)),
    'JSON.stringify(2)': await measure(saves, () => `${JSON.stringify(file, null, 2)}\n`),
    mkdir: await measure(saves, () => mkdir(directory, { recursive: true, mode: 0o700 })),
    'randomBytes name': await measure(saves, () => randomBytes(6).toString('hex')),
    'temp: open+write+fsync+close': await measure(saves, async (i) => {
      const handle = await open(join(directory, `t${i}.tmp`), 'wx', 0o600);
      await handle.writeFile(out, 'utf8');
      await handle.sync();
      await handle.close();
    }),
    rename: await measure(saves, (i) => rename(join(directory, `t${i}.tmp`), path)),
    'directory: open+fsync+close': await measure(saves, async () => {
      const handle = await open(directory, 'r');
      await handle.sync();
      await handle.close();
    }),
  };
  await store.close();
  return result;
}

const dir = await mkdtemp(join(tmpdir(), 'kefu-checkpoint-bench-'));
try {
  const perSave = [];
  const user = [];
  const system = [];
  for (let round = 0; round < rounds; round++) {
    const before = await loadavg();
    const result = await saveRound(dir, round);
    perSave.push(result.cpuUs);
    user.push(result.userUs);
    system.push(result.systemUs);
    console.log(JSON.stringify({ round, saves, keys, ...result, loadavg: before, loadAfter: await loadavg() }));
  }
  console.log(
    JSON.stringify({
      saves,
      keys,
      rounds,
      medianCpuUsPerSave: median(perSave),
      medianUserUs: median(user),
      medianSystemUs: median(system),
    }),
  );
  if (stages) {
    const before = await loadavg();
    const result = await stageRound(dir);
    for (const [stage, figures] of Object.entries(result)) console.log(JSON.stringify({ stage, ...figures }));
    console.log(JSON.stringify({ loadavg: before, loadAfter: await loadavg() }));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
