import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatedPlatform } from '../platform.js';

/**
 * Serves one emulated platform alone on loopback, without transport faults or request
 * log: for the Youmi platform's own tests and for using the Youmi emulator without
 * `startEmulator`. The full emulator server (server.ts) is the normal entry point.
 */

/** A platform served on loopback. */
export interface ServedYoumiPlatform {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Closes the server (destroying open sockets) and the platform. */
  close(): Promise<void>;
}

/** Serves `platform` on 127.0.0.1 (random port unless given). */
export async function serveYoumiPlatform(
  platform: EmulatedPlatform,
  options: { host?: string; port?: number; now?: () => number } = {},
): Promise<ServedYoumiPlatform> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', `http://${host}`);
      platform
        .handle({
          method: request.method ?? 'GET',
          url,
          headers: request.headers,
          body: Buffer.concat(chunks),
          receivedAt: now(),
        })
        .then((answer) => {
          const status = answer?.status ?? 404;
          const body = JSON.stringify(answer ? answer.body : { error: 'not_found' });
          response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...answer?.headers });
          response.end(body);
        })
        .catch((error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          response.end(JSON.stringify({ error: String(error) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await platform.close();
    },
  };
}
