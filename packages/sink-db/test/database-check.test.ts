import { DatabaseSink } from '@kefu/sink-db';
import { integrationServer } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';

// DatabaseSink.check(): what `kefu doctor` runs. It connects and runs `SELECT 1`, so a
// missing database, refused credentials and an unreachable server each get their own code
// (a sink without a probe used to be reported healthy whatever its URL).

const [postgres, mysql] = await Promise.all([integrationServer('postgres'), integrationServer('mysql')]);

async function checkError(url: string): Promise<{ code: string; retryable: boolean; message: string } | undefined> {
  const sink = new DatabaseSink({ url });
  try {
    await sink.check();
    return undefined;
  } catch (error) {
    return error as { code: string; retryable: boolean; message: string };
  } finally {
    await sink.close();
  }
}

describe('DatabaseSink.check', () => {
  it('given a SQLite file in a writable directory, when checked, then it resolves', async () => {
    expect(await checkError(':memory:')).toBeUndefined();
  });

  it.skipIf(!postgres.available)(
    'given PostgreSQL with a database that does not exist, when checked, then SINK_DB_NOT_FOUND says so',
    async () => {
      const url = new URL(postgres.url);
      url.pathname = '/kefu_no_such_database';
      expect(await checkError(url.href)).toMatchObject({
        code: 'SINK_DB_NOT_FOUND',
        retryable: false,
        message: expect.stringContaining('kefu_no_such_database'),
      });
    },
  );

  it.skipIf(!postgres.available)(
    'given PostgreSQL on a port nobody listens on, when checked, then SINK_DB_UNAVAILABLE (retryable)',
    async () => {
      const url = new URL(postgres.url);
      url.port = '1';
      expect(await checkError(url.href)).toMatchObject({ code: 'SINK_DB_UNAVAILABLE', retryable: true });
    },
  );

  it.skipIf(!mysql.available)(
    'given MariaDB refusing the password, when checked, then SINK_DB_AUTH_FAILED; given an unknown database, then SINK_DB_NOT_FOUND',
    async () => {
      const wrongPassword = new URL(mysql.url);
      wrongPassword.username = 'root';
      wrongPassword.password = 'not-the-password';
      expect(await checkError(wrongPassword.href)).toMatchObject({ code: 'SINK_DB_AUTH_FAILED' });
      const unknown = new URL(mysql.url);
      unknown.pathname = '/kefu_no_such_database';
      expect(await checkError(unknown.href)).toMatchObject({ code: 'SINK_DB_NOT_FOUND' });
    },
  );
});
