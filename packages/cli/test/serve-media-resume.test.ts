import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServeHandler, MediaArchiver, ServeMetrics } from '@kefu/cli';
import { DirectoryMediaStore, type KefuRecord, type MediaStore, PushSpool } from '@kefu/core';
import { type RunningEmulator, startEmulator } from '@kefu/emulator';
import { WechatMpProvider } from '@kefu/wechat-mp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The media archive survives a crash: a download pending when the process dies is recorded in
// the spool (same commit as its record) and done by the next archiver opened on the same file.

const TOKEN = 'media-resume-token';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

/** A store whose writes never finish: the process "dies" with the download in flight. */
class StuckStore implements MediaStore {
  readonly #inner: MediaStore;
  started = 0;
  constructor(inner: MediaStore) {
    this.#inner = inner;
  }
  locationOf(key: string): string {
    return this.#inner.locationOf(key);
  }
  put(): Promise<string> {
    this.started += 1;
    return new Promise(() => {});
  }
}

let emulator: RunningEmulator;
let provider: WechatMpProvider;
let scratch: string;
let appId: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-media-resume-'));
  emulator = await startEmulator({ seed: 'media-resume', wechat: { accounts: 1, days: 1, recordsPerDay: 5 } });
  const account = emulator.wechat.accounts[0] as { appId: string; secret: string };
  appId = account.appId;
  provider = new WechatMpProvider({
    baseUrl: emulator.wechat.baseUrl,
    accounts: [{ appId, secret: account.secret, push: { token: TOKEN, encodingAesKey: AES_KEY } }],
    retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
  });
});

afterAll(async () => {
  await provider?.close();
  await emulator?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function control(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.url}/__emulator/wechat/${path}`, { method, body: JSON.stringify(body) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return answer;
}

/** `kefu serve`'s push path with the archive, on a node:http server the emulator pushes to. */
async function serveWith(spool: PushSpool, archiver: MediaArchiver): Promise<Server> {
  const serve = createServeHandler({
    receivers: provider.pushReceivers(),
    spool,
    prepareRecords: (records) => archiver.link(records),
    downloadsOf: (records, acceptedAt) => archiver.downloadsOf(records, acceptedAt),
    onStored: (records) => archiver.enqueue(records),
  });
  const server = createServer(serve.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await control('PUT', 'push-target', {
    appid: appId,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat/${appId}`,
    token: TOKEN,
    encodingAesKey: AES_KEY,
    mode: 'safe',
  });
  return server;
}

function mediaRecord(mediaId: string, id: string): KefuRecord {
  return {
    provider: 'wechat-mp',
    account: appId,
    id,
    customer: 'o_media',
    kind: 'image',
    at: new Date().toISOString(),
    direction: 'inbound',
    media: { key: mediaId },
    raw: {},
  };
}

describe('media archive across a crash', () => {
  it('given a download in flight when the process dies, then an archiver opened on the same spool stores the file', async () => {
    const spoolPath = join(scratch, 'crash.sqlite');
    const store = new DirectoryMediaStore(join(scratch, 'media'));
    const stuck = new StuckStore(store);
    const spool = PushSpool.open({ path: spoolPath });
    const first = new MediaArchiver({ store: stuck, providers: [provider], spool });
    const server = await serveWith(spool, first);
    const sent = await control('POST', 'push', { appid: appId, openid: 'o_media', kind: 'image' });
    const mediaId = String(sent.mediaId);
    await expect.poll(() => stuck.started).toBe(1);
    expect(spool.pendingDownloads(10).map((download) => download.key)).toEqual([`wechat-mp/${appId}/${mediaId}`]);
    // The crash: no stop, no drain; the in-flight write never completes.
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    spool.close();

    const reopened = PushSpool.open({ path: spoolPath });
    const metrics = new ServeMetrics(() => reopened.depth());
    const second = new MediaArchiver({ store, providers: [provider], spool: reopened, metrics });
    second.resume();
    await second.idle();
    const location = store.locationOf(`wechat-mp/${appId}/${mediaId}`);
    const expected = await provider.downloadMedia(appId, mediaId);
    expect(await readFile(location)).toEqual(expected.data);
    expect(reopened.pendingDownloads(10)).toEqual([]);
    expect(await metrics.exposition().then((m) => m.body)).toMatch(/kefu_media_downloads_total\{outcome="stored"\} 1/);
    await second.stop();
    reopened.close();
  });

  it('given a pending download whose tries are used up or whose medium expired, then it is given up as failed and forgotten', async () => {
    const spool = PushSpool.open({ path: join(scratch, 'give-up.sqlite') });
    const store = new DirectoryMediaStore(join(scratch, 'media-give-up'));
    const archiver = new MediaArchiver({ store, providers: [provider], spool, attempts: 2 });
    const now = Date.now();
    const [expired, unknown] = [mediaRecord('emu_image_expired', 'r1'), mediaRecord('emu_image_unknown', 'r2')];
    await spool.append({
      dedupeKey: 'push-1',
      records: [expired, unknown],
      downloads: [
        { key: 'k-expired', record: expired, expiresAt: now - 1 },
        { key: 'k-unknown', record: unknown, expiresAt: now + 60_000 },
      ],
    });
    // A retried push adds no second download.
    await spool.append({
      dedupeKey: 'push-1-again',
      records: [unknown],
      downloads: [{ key: 'k-unknown-2', record: unknown, expiresAt: now + 60_000 }],
    });
    expect(spool.pendingDownloads(10).map((download) => download.key)).toEqual(['k-expired', 'k-unknown']);
    const metrics = new ServeMetrics(() => spool.depth());
    const resumed = new MediaArchiver({ store, providers: [provider], spool, attempts: 2, metrics });
    resumed.resume();
    await resumed.idle();
    expect(spool.pendingDownloads(10)).toEqual([]);
    expect(await metrics.exposition().then((m) => m.body)).toMatch(/kefu_media_downloads_total\{outcome="failed"\} 2/);
    await archiver.stop();
    await resumed.stop();
    spool.close();
  });

  it('given a download whose tries were used up before a restart, then the next start gives it up without a download', async () => {
    const spool = PushSpool.open({ path: join(scratch, 'tries.sqlite') });
    const record = mediaRecord('emu_image_crashloop', 'r3');
    await spool.append({
      dedupeKey: 'push-3',
      records: [record],
      downloads: [{ key: 'k-loop', record, expiresAt: Date.now() + 60_000 }],
    });
    for (let i = 0; i < 3; i++) spool.downloadTried('k-loop');
    const stuck = new StuckStore(new DirectoryMediaStore(join(scratch, 'media-loop')));
    const archiver = new MediaArchiver({ store: stuck, providers: [provider], spool, attempts: 3 });
    archiver.resume();
    await archiver.idle();
    expect(stuck.started).toBe(0);
    expect(spool.pendingDownloads(10)).toEqual([]);
    spool.close();
  });
});
