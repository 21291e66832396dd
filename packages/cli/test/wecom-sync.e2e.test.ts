import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// End-to-end: the built `kefu` binary syncing WeCom customer service (kf/sync_msg) from a
// platform that reads the docs differently from the defaults on every paging point at once
// (results and cursor per app, pages in reverse order, empty pages with has_more = 1, fewer
// items than the limit, a new token on every gettoken).

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const SECRET_ENV = 'KEFU_E2E_WECOM_SECRET';

function run(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Every record id the JSONL sink wrote, in file order. */
async function writtenIds(dir: string): Promise<string[]> {
  const files = (await readdir(join(dir, 'records'), { recursive: true }))
    .map(String)
    .filter((f) => f.endsWith('.jsonl'));
  const ids: string[] = [];
  for (const file of files.sort()) {
    const text = await readFile(join(dir, 'records', file), 'utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

describe('kefu sync of WeCom kf (subprocess, against the emulator under other readings)', () => {
  let emulator: RunningEmulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 'cli-wecom',
      wecom: {
        accounts: 2,
        messagesPerAccount: 40,
        readings: {
          cursorScope: 'per-app',
          order: 'reversed-pages',
          emptyPages: true,
          fewerThanLimit: true,
          gettoken: 'new-each-call',
        },
      },
    });
    dir = await mkdtemp(join(tmpdir(), 'kefu-cli-wecom-'));
    const { wecom } = emulator;
    const config = [
      'providers:',
      '  - use: "@kefu/wecom-kf"',
      '    id: kf',
      '    config:',
      `      baseUrl: ${wecom.baseUrl}`,
      `      corpId: ${wecom.corpId}`,
      `      secret: \${${SECRET_ENV}}`,
      `      accounts: [${wecom.accounts.map((openKfId) => `{ openKfId: ${openKfId} }`).join(', ')}]`,
      '      pageSize: 6',
      'sinks:',
      '  - use: "@kefu/sink-file"',
      '    id: files',
      '    config: { dir: ./records }',
      'checkpoints: { use: file, path: ./checkpoints.json }',
    ].join('\n');
    await writeFile(join(dir, 'kefu.yaml'), config);
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given a bounded sync, new messages, then an open sync, then every message of both accounts is written exactly once', async () => {
    const { wecom } = emulator;
    const env = { [SECRET_ENV]: wecom.secret };
    const now = emulator.clock.now();
    const from = new Date(now - 50 * 3_600_000);
    const boundedTo = new Date(now - 24 * 3_600_000);
    const truth = () => wecom.accounts.flatMap((openKfId) => wecom.expectedItems(openKfId));
    const bounded = await run(
      ['sync', '-c', 'kefu.yaml', '--from', from.toISOString(), '--to', boundedTo.toISOString(), '--json'],
      { cwd: dir, env },
    );
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(bounded.stderr).not.toContain(wecom.secret);
    // Nothing at or after `to`; under reversed pages, a message behind one past `to` waits for the next sync (A9).
    const afterBounded = await writtenIds(dir);
    const inRange = truth()
      .filter((item) => item.send_time * 1000 < boundedTo.getTime())
      .map((item) => item.msgid);
    expect(afterBounded.length).toBeGreaterThan(0);
    expect(afterBounded.every((id) => inRange.includes(id))).toBe(true);

    for (const openKfId of wecom.accounts) wecom.customerMessage(openKfId, '新消息');
    const open = await run(['sync', '-c', 'kefu.yaml', '--json'], { cwd: dir, env });
    expect(open.code, open.stderr).toBe(0);
    const ids = await writtenIds(dir);
    expect(ids.length, 'nothing twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual(
      truth()
        .map((item) => item.msgid)
        .sort(),
    );
    // Under the per-app reading each account met the other's messages and said so.
    expect(open.stdout).toContain('WECOM_FOREIGN_MESSAGES');
  });
});
