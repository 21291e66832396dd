import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the loopback server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a route answers: a status and a JSON value, or a raw string body. */
export interface LoopbackAnswer {
  status?: number;
  json?: unknown;
  raw?: string;
}

/** A real HTTP server on 127.0.0.1 answering from a test-provided function. */
export interface LoopbackServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a loopback server; `answer` may be async (to hold a response, e.g. to test single-flight). */
export async function startLoopbackServer(
  answer: (request: SeenRequest) => LoopbackAnswer | Promise<LoopbackAnswer>,
): Promise<LoopbackServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      Promise.resolve(answer(seen)).then((reply) => {
        const payload = reply.raw ?? JSON.stringify(reply.json ?? null);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(payload);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A v2 success envelope. */
export function envelope(values: unknown, errmsg = 0, errdesc: string | null = null) {
  return { requestId: null, errmsg, succeed: errmsg === 0, msgTime: '2026-11-20 10:00:00', values, errdesc };
}
