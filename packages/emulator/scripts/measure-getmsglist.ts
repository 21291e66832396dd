/**
 * Measures the emulator serving a large WeChat account: reads every day of history
 * through getmsglist pages of 10 000 and reports pages/s, records/s and the server's RSS
 * (current and peak, from /proc). The emulator runs in its own process (dist/bin.js), so
 * the client's memory does not count.
 *
 *   pnpm tsc -b packages/emulator
 *   node packages/emulator/scripts/measure-getmsglist.ts [recordsPerDay=33334] [days=30]
 *
 * EMULATOR_NODE_FLAGS (e.g. "--max-semi-space-size=2") are passed to the emulator's node only.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { request } from 'undici';

const recordsPerDay = Number(process.argv[2] ?? 33_334);
const days = Number(process.argv[3] ?? 30);
const now = Date.UTC(2026, 0, 15, 4, 0, 0);
const bin = new URL('../dist/bin.js', import.meta.url).pathname;

const child = spawn(
  process.execPath,
  [
    bin,
    '--json',
    '--accounts',
    '1',
    '--records-per-day',
    String(recordsPerDay),
    '--days',
    String(days),
    '--now',
    new Date(now).toISOString(),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const info = JSON.parse(line) as {
  url: string;
  pid: number;
  wechat: { accounts: Array<{ appId: string; secret: string }> };
};
const account = info.wechat.accounts[0]!;

function rssMb(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? 0) / 1024;
  return { rss: field('VmRSS:'), peak: field('VmHWM:') };
}

const tokenResponse = await request(
  `${info.url}/cgi-bin/token?grant_type=client_credential&appid=${account.appId}&secret=${account.secret}`,
);
const { access_token: token } = (await tokenResponse.body.json()) as { access_token: string };
const idle = rssMb();

const lastDayStart = Math.floor((now / 1000 + 8 * 3600) / 86_400) * 86_400 - 8 * 3600;
let pages = 0;
let records = 0;
let bytes = 0;
let pageMsMax = 0;
const started = performance.now();
for (let day = days - 1; day >= 1; day--) {
  const starttime = lastDayStart - day * 86_400;
  let msgid = 1;
  for (;;) {
    const pageStarted = performance.now();
    const response = await request(`${info.url}/customservice/msgrecord/getmsglist?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify({ starttime, endtime: starttime + 86_400, msgid, number: 10_000 }),
    });
    const text = await response.body.text();
    pageMsMax = Math.max(pageMsMax, performance.now() - pageStarted);
    const page = JSON.parse(text) as { recordlist: unknown[]; msgid: number };
    if (page.recordlist.length === 0) break;
    pages++;
    // The default reading (inclusive bound, last id answered) repeats the boundary record on every later page.
    records += page.recordlist.length - (msgid === 1 ? 0 : 1);
    bytes += text.length;
    if (page.recordlist.length < 10_000) break;
    msgid = page.msgid;
  }
}
const seconds = (performance.now() - started) / 1000;
const after = rssMb();
const memory = (await (await request(`${info.url}/__emulator/memory`)).body.json()) as Record<string, number>;
const mb = (bytes: number | undefined) => Math.round((bytes ?? 0) / 1048576);
child.kill('SIGTERM');
await once(child, 'exit');

console.log(
  JSON.stringify(
    {
      recordsPerDay,
      days,
      approxAccountRecords: recordsPerDay * days,
      daysRead: days - 1,
      getmsglistRecords: records,
      pages,
      seconds: Number(seconds.toFixed(2)),
      pagesPerSecond: Number((pages / seconds).toFixed(2)),
      recordsPerSecond: Math.round(records / seconds),
      mbPerSecond: Number((bytes / 1024 / 1024 / seconds).toFixed(1)),
      slowestPageMs: Math.round(pageMsMax),
      serverRssMb: { idle: Math.round(idle.rss), end: Math.round(after.rss), peak: Math.round(after.peak) },
      serverEndMb: {
        heapUsed: mb(memory.heapUsed),
        heapTotal: mb(memory.heapTotal),
        external: mb(memory.external),
        arrayBuffers: mb(memory.arrayBuffers),
      },
    },
    null,
    2,
  ),
);
