import { connect } from 'node:net';

/** A server kind known to {@link integrationServer}. */
export type IntegrationServerKind = 'postgres' | 'mysql' | 'nats' | 'redis';

/** The real servers integration tests may use, with their environment variables and local defaults. */
const SERVERS: Record<IntegrationServerKind, { env: string; fallback: string }> = {
  postgres: { env: 'KEFU_TEST_POSTGRES_URL', fallback: 'postgres://postgres@127.0.0.1:5432/test' },
  mysql: { env: 'KEFU_TEST_MYSQL_URL', fallback: 'mysql://root@127.0.0.1:3306/test' },
  nats: { env: 'KEFU_TEST_NATS_URL', fallback: 'nats://127.0.0.1:4222' },
  redis: { env: 'KEFU_TEST_REDIS_URL', fallback: 'redis://127.0.0.1:6379' },
};

/** Where a server is and whether tests may use it. */
export interface IntegrationServer {
  url: string;
  /** True when the server accepts TCP connections. */
  available: boolean;
  /** Why it is unavailable, for the skip message. */
  reason?: string;
}

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Finds a real server for integration tests. Under `CI=true` the URL must come from the
 * environment variable and the server must answer, or this throws (CI must run these
 * tests, never skip them); elsewhere the local default is tried and the caller skips with `reason`.
 *
 * @example
 * ```ts
 * const pg = await integrationServer('postgres');
 * describe.skipIf(!pg.available)('PostgreSQL', () => { ... });
 * ```
 */
export async function integrationServer(kind: IntegrationServerKind): Promise<IntegrationServer> {
  const { env, fallback } = SERVERS[kind];
  if (process.env.CI === 'true' && !process.env[env]) {
    throw new Error(`CI requires ${env} to be set (the ${kind} server the integration tests use, e.g. ${fallback})`);
  }
  const url = process.env[env] ?? fallback;
  const parsed = new URL(url);
  const defaultPort = { postgres: 5432, mysql: 3306, nats: 4222, redis: 6379 }[kind];
  const available = await reachable(parsed.hostname, Number(parsed.port || defaultPort), 2000);
  if (available) return { url, available };
  const reason = `${kind} is not reachable at ${parsed.host} (set ${env} to a running server)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${reason}`);
  return { url, available, reason };
}
