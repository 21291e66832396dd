import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that can be cut, stalled and restored: a real network outage
 * between a client and its server (the server itself keeps running), for servers such as
 * NATS that have no way to end one client's connection from outside, and for hung
 * connections no server can simulate.
 */
export interface TcpProxy {
  /** `nats://127.0.0.1:<port>` of the proxy. */
  url: string;
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Connections accepted so far (a client reconnecting shows up here). */
  readonly accepted: number;
  /**
   * The local ports of the proxy's open connections to the server: how the server sees
   * the clients behind the proxy (PostgreSQL `pg_stat_activity.client_port`, the port in
   * MySQL's `processlist.host`), to end exactly their sessions.
   */
  upstreamPorts(): number[];
  /** Drops every connection and refuses new ones. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /**
   * Stops forwarding, in both directions, on every connection, open or new, without
   * closing any: a hung network (a partition, a dead middlebox). Bytes sent meanwhile
   * are held, not delivered, and so is a close: a side that ends its connection during
   * the stall is not seen by the other until {@link resume}.
   */
  stall(): void;
  /** Forwards again, held bytes first; connections the clients gave up on stay closed. */
  resume(): void;
  close(): Promise<void>;
}

/** One direction of one connection: forwards, or holds while stalled. */
class Pipe {
  readonly #held: Buffer[] = [];
  constructor(
    readonly to: Socket,
    private readonly stalled: () => boolean,
  ) {}
  push(chunk: Buffer): void {
    if (this.stalled()) this.#held.push(chunk);
    else this.to.write(chunk);
  }
  flush(): void {
    for (const chunk of this.#held.splice(0)) this.to.write(chunk);
  }
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
 * proxy.stall(); // every connection hangs
 * proxy.resume();
 * ```
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const pipes = new Set<Pipe>();
  const heldDrops = new Set<() => void>();
  let server: Server | undefined;
  let port = 0;
  let accepted = 0;
  let stalled = false;
  const isStalled = () => stalled;
  const listen = async () => {
    const created = createServer((client) => {
      accepted += 1;
      const upstream = connect(target);
      sockets.add(client).add(upstream);
      upstreams.add(upstream);
      const toUpstream = new Pipe(upstream, isStalled);
      const toClient = new Pipe(client, isStalled);
      pipes.add(toUpstream).add(toClient);
      client.on('data', (chunk: Buffer) => toUpstream.push(chunk));
      upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
      const drop = () => {
        // A stalled network delivers no close either: the other side learns of it on resume.
        if (stalled) {
          heldDrops.add(drop);
          return;
        }
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
        upstreams.delete(upstream);
        pipes.delete(toUpstream);
        pipes.delete(toClient);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', resolve));
    port = (created.address() as { port: number }).port;
    server = created;
  };
  const stop = async () => {
    stalled = false;
    heldDrops.clear();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    upstreams.clear();
    pipes.clear();
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
    get accepted() {
      return accepted;
    },
    upstreamPorts: () => [...upstreams].flatMap((socket) => (socket.localPort ? [socket.localPort] : [])),
    down: stop,
    up: listen,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const pipe of pipes) pipe.flush();
      for (const drop of heldDrops) drop();
      heldDrops.clear();
    },
    close: stop,
  };
}
