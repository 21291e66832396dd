import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The WeCom platform lives in the wecom-kf package's tests until @kefu/emulator gains it.
import {
  startWecomFakePlatform,
  textItems,
  type WecomFakePlatform,
} from '../../wecom-kf/test/support/wecom-fake-platform.js';

// End-to-end: the built `kefu` binary syncing WeCom customer service (kf/sync_msg) from a
// platform that reads the docs differently from the defaults on every paging point at once
// (results and cursor per app, pages in reverse order, empty pages with has_more = 1, fewer
// items than the limit, a new token on every gettoken).

const BIN = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
const SECRET_ENV = 'KEFU_E2E_WECOM_SECRET';
const SECRET = 'wecom-e2e-secret-0123';
const CORP = 'ww0123456789abcdef';

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

describe('kefu sync of WeCom kf (subprocess, against a platform under other readings)', () => {
  let platform: WecomFakePlatform;
  let dir: string;
  const now = Math.floor(Date.now() / 1000);
  const items = [...textItems('wkA', 40, now - 7200, 'a'), ...textItems('wkB', 15, now - 7100, 'b')];

  beforeAll(async () => {
    platform = await startWecomFakePlatform({
      corpId: CORP,
      secret: SECRET,
      items,
      readings: {
        cursorScope: 'per-app',
        order: 'reversed-pages',
        emptyPages: true,
        fewerThanLimit: true,
        gettoken: 'new-each-call',
      },
    });
    dir = await mkdtemp(join(tmpdir(), 'kefu-cli-wecom-'));
    const config = [
      'providers:',
      '  - use: "@kefu/wecom-kf"',
      '    id: kf',
      '    config:',
      `      baseUrl: ${platform.url}`,
      `      corpId: ${CORP}`,
      `      secret: \${${SECRET_ENV}}`,
      '      accounts: [{ openKfId: wkA }, { openKfId: wkB }]',
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
    await platform?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('given a bounded sync, new messages, then an open sync, then every message of both accounts is written exactly once', async () => {
    const env = { [SECRET_ENV]: SECRET };
    const from = new Date((now - 86_400) * 1000);
    const boundedTo = new Date((now - 7200 + 20) * 1000);
    const bounded = await run(
      ['sync', '-c', 'kefu.yaml', '--from', from.toISOString(), '--to', boundedTo.toISOString(), '--json'],
      { cwd: dir, env },
    );
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(bounded.stderr).not.toContain(SECRET);
    // Nothing at or after `to`; under reversed pages, a message behind one past `to` waits for the next sync (A9).
    const afterBounded = await writtenIds(dir);
    const inRange = items
      .filter((item) => Number(item.send_time) * 1000 < boundedTo.getTime())
      .map((item) => String(item.msgid));
    expect(afterBounded.length).toBeGreaterThan(0);
    expect(afterBounded.every((id) => inRange.includes(id))).toBe(true);

    items.push(...textItems('wkA', 5, now - 30, 'late'), ...textItems('wkB', 2, now - 20, 'late'));
    const open = await run(['sync', '-c', 'kefu.yaml', '--json'], { cwd: dir, env });
    expect(open.code, open.stderr).toBe(0);
    const ids = await writtenIds(dir);
    expect(ids.length, 'nothing twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual(items.map((item) => String(item.msgid)).sort());
    // Under the per-app reading each account met the other's messages and said so.
    expect(open.stdout).toContain('WECOM_FOREIGN_MESSAGES');
  });
});
