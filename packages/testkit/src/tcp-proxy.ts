import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that can be cut and restored: a real network outage between a
 * client and its server (the server itself keeps running), for servers such as NATS that
 * have no way to end one client's connection from outside.
 */
export interface TcpProxy {
  /** `nats://127.0.0.1:<port>` of the proxy. */
  url: string;
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Drops every connection and refuses new ones. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `target` (`host:port`).
 *
 * @example
 * ```ts
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 4222 });
 * const sink = new NatsJetStreamSink({ servers: proxy.url });
 * await proxy.down(); // every connection drops, new ones are refused
 * await proxy.up();
 * ```
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const created = createServer((client) => {
      const upstream = connect(target);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', resolve));
    port = (created.address() as { port: number }).port;
    server = created;
  };
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };
  await listen();
  return {
    url: `nats://127.0.0.1:${port}`,
    get port() {
      return port;
    },
    down: stop,
    up: listen,
    close: stop,
  };
}
