import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_PLUGINS, type RunningServe, startServe } from '@kefu/cli';
import { createKefu, type Kefu, silentLogger } from '@kefu/core';
import { integrationServer, startTcpProxy, type TcpProxy } from '@kefu/testkit';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';

// `kefu serve`'s /readyz follows its database: a real PostgreSQL behind a loopback TCP
// proxy that stops forwarding (a hung network) and then refuses connections (a server
// down). /readyz answers 503 with the typed code within the sink's connect timeout, the
// process keeps serving, and /readyz is 200 again once the database is back.

const postgres = await integrationServer('postgres');

describe.skipIf(!postgres.available)('kefu serve readiness when its database fails', () => {
  let kefu: Kefu | undefined;
  let serve: RunningServe | undefined;
  let proxy: TcpProxy | undefined;
  let dir: string | undefined;
  const table = `kefu_readyz_${process.pid}_${Date.now() % 100_000}`;

  afterEach(async () => {
    proxy?.resume();
    await serve?.close();
    await kefu?.close();
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    for (const name of [table, `${table}_cp`, `${table}_migrations`])
      await client.query(`DROP TABLE IF EXISTS ${name}`);
    await client.end();
  });

  const readyz = async (url: string) => {
    const response = await fetch(`${url}/readyz`);
    return `${response.status} ${(await response.text()).trim()}`;
  };

  it('given the database stalls, then is down, then returns, when /readyz is asked, then it answers 503 with the typed code and 200 again after', async () => {
    const server = new URL(postgres.url);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const url = new URL(postgres.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    dir = await mkdtemp(join(tmpdir(), 'kefu-readyz-'));
    kefu = await createKefu({
      sinks: [
        {
          use: '@kefu/sink-db',
          id: 'db',
          config: {
            url: url.href,
            table,
            checkpointTable: `${table}_cp`,
            connectTimeoutMs: 1000,
            statementTimeoutMs: 1000,
            outageRetryMs: 2000,
          },
        },
      ],
      checkpoints: { use: 'sink', sink: 'db' },
      logger: silentLogger,
      bundledPlugins: BUNDLED_PLUGINS,
    });
    serve = await startServe({ kefu, baseDir: dir, port: 0, serve: { spool: { path: 'spool.sqlite' } } });
    const base = serve.url as string;
    expect(await readyz(base)).toBe('200 ready');

    proxy.stall();
    expect(await readyz(base)).toBe('503 not ready: SINK_DB_TIMEOUT');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    proxy.resume();
    await expect.poll(() => readyz(base), { timeout: 20_000, interval: 100 }).toBe('200 ready');

    await proxy.down();
    expect(await readyz(base)).toBe('503 not ready: SINK_DB_UNAVAILABLE');
    await proxy.up();
    await expect.poll(() => readyz(base), { timeout: 20_000, interval: 100 }).toBe('200 ready');
  });
});
