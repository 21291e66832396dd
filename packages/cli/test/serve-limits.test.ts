import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServe, startServe } from '@kefu/cli';
import { createKefu, type Kefu, silentLogger } from '@kefu/core';
import { afterEach, describe, expect, it } from 'vitest';

// The listening server of startServe: connection cap and header timeout (slow loris on headers).

let kefu: Kefu | undefined;
let serve: RunningServe | undefined;
let dir: string | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await serve?.close();
  await kefu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  serve = kefu = dir = undefined;
});

async function start(limits: Record<string, number>): Promise<RunningServe> {
  dir = await mkdtemp(join(tmpdir(), 'kefu-serve-limits-'));
  kefu = await createKefu({ logger: silentLogger });
  serve = await startServe({ kefu, baseDir: dir, port: 0, serve: { spool: { path: 'spool.sqlite' }, limits } });
  return serve;
}

/** Opens a connection and resolves with what the server sent before closing it. */
function exchange(url: string, text: string): { closed: Promise<string>; socket: Socket } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  socket.on('error', () => {});
  socket.write(text);
  return { socket, closed: new Promise((resolve) => socket.on('close', () => resolve(received))) };
}

describe('startServe limits', () => {
  it('given a client that never finishes its headers, then it is answered 408 and cut after headersTimeoutMs', async () => {
    const running = await start({ headersTimeoutMs: 300 });
    const started = Date.now();
    const { closed } = exchange(running.url as string, 'POST /wechat/x HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('given more connections than maxConnections, then the extra ones are closed while the others are served', async () => {
    const running = await start({ maxConnections: 2 });
    const probe = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const held = [exchange(running.url as string, probe), exchange(running.url as string, probe)];
    // Both answered and kept alive: the server counts them.
    await Promise.all(held.map(({ socket }) => new Promise((resolve) => socket.once('data', resolve))));
    const extra = exchange(running.url as string, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBe('');
    held[0]?.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await held[0]?.closed).toMatch(/^HTTP\/1\.1 200[\s\S]*ok[\s\S]*HTTP\/1\.1 200/);
  });
});
