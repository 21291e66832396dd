import { isKefuError, isKefuPlugin, type KefuError, redactText, silentLogger, TOKENS } from '@kefu/core';
import { integrationServer } from '@kefu/testkit';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { DatabaseSink, parseDatabaseUrl, plugin } from '../src/index.js';
import { makeBatch, makeRecord } from './support/databases.js';

const mysql = await integrationServer('mysql');

async function rejection(promise: Promise<unknown>): Promise<KefuError> {
  try {
    await promise;
  } catch (error) {
    if (isKefuError(error)) return error;
    throw new Error(`expected a KefuError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

function thrown(action: () => unknown): KefuError {
  try {
    action();
  } catch (error) {
    if (isKefuError(error)) return error;
    throw new Error(`expected a KefuError, got ${String(error)}`);
  }
  throw new Error('expected a throw');
}

describe('parseDatabaseUrl', () => {
  it('given the SQLite spellings, when parsed, then each names an absolute file', () => {
    expect(parseDatabaseUrl('sqlite:///var/lib/kefu.db')).toMatchObject({
      dialect: 'sqlite',
      path: '/var/lib/kefu.db',
    });
    expect(parseDatabaseUrl('file:///var/lib/kefu%20a.db')).toMatchObject({
      dialect: 'sqlite',
      path: '/var/lib/kefu a.db',
    });
    expect(parseDatabaseUrl('sqlite:data/kefu.db', '/srv')).toMatchObject({
      dialect: 'sqlite',
      path: '/srv/data/kefu.db',
    });
    expect(parseDatabaseUrl('./kefu.db', '/srv')).toMatchObject({ dialect: 'sqlite', path: '/srv/kefu.db' });
    expect(parseDatabaseUrl('/abs/kefu.db')).toMatchObject({ dialect: 'sqlite', path: '/abs/kefu.db' });
    expect(parseDatabaseUrl(':memory:')).toMatchObject({ dialect: 'sqlite', path: ':memory:' });
  });

  it('given server URLs, when parsed, then the dialect is chosen and the password is redacted and registered', () => {
    const postgres = parseDatabaseUrl('postgresql://kefu:pg-Secret-1@db.internal:5432/kefu');
    expect(postgres).toMatchObject({ dialect: 'postgres', display: 'postgresql://kefu:***@db.internal:5432/kefu' });
    const mysql = parseDatabaseUrl('mariadb://kefu:my%2FSecret@db.internal/kefu');
    expect(mysql.dialect).toBe('mysql');
    expect(mysql.display).not.toContain('Secret');
    expect(redactText('password is pg-Secret-1 and my/Secret')).not.toMatch(/pg-Secret-1|my\/Secret/);
  });

  it('given an unknown scheme or an empty url, when parsed, then SINK_DB_CONFIG_INVALID says what is accepted', () => {
    const unknown = thrown(() => parseDatabaseUrl('mongodb://localhost/kefu'));
    expect(unknown.code).toBe('SINK_DB_CONFIG_INVALID');
    expect(unknown.message).toContain('postgres://');
    expect(thrown(() => parseDatabaseUrl('  ')).code).toBe('SINK_DB_CONFIG_INVALID');
  });
});

describe('DatabaseSink configuration', () => {
  it('given a bad table name, a schema with SQLite or equal table names, when constructed, then the field is named', () => {
    const badTable = thrown(() => new DatabaseSink({ url: ':memory:', table: 'records; drop table x' }));
    expect(badTable.code).toBe('SINK_DB_CONFIG_INVALID');
    expect(badTable.message).toContain('`table`');
    expect(thrown(() => new DatabaseSink({ url: ':memory:', schema: 'kefu' })).message).toContain('`schema`');
    expect(thrown(() => new DatabaseSink({ url: ':memory:', table: 'a', checkpointTable: 'a' })).code).toBe(
      'SINK_DB_CONFIG_INVALID',
    );
  });

  it('given a sink, when asked for its schema, then the DDL names the configured tables and the dialect types', () => {
    const sink = new DatabaseSink({ url: 'postgres://u@127.0.0.1:1/db', table: 'chat', checkpointTable: 'chat_state' });
    const ddl = sink.schemaStatements().join('\n');
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "chat"');
    expect(ddl).toContain('raw JSONB NOT NULL');
    expect(ddl).toContain('"chat_state"');
  });
});

describe('DatabaseSink driver errors', () => {
  it('given PostgreSQL refusing connections, when writing, then SINK_DB_UNAVAILABLE is retryable and hides the password', async () => {
    // Port 1 on loopback refuses connections: a real fault, no mock.
    const sink = new DatabaseSink({ url: 'postgres://kefu:refused-Pw-42@127.0.0.1:1/kefu', outageRetryMs: 0 });
    const error = await rejection(sink.write(makeBatch([makeRecord(1)], 1)));
    await sink.close();
    expect(error.code).toBe('SINK_DB_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('127.0.0.1:1');
    expect(JSON.stringify(error.toJSON())).not.toContain('refused-Pw-42');
  });

  it('given MySQL refusing connections, when loading a checkpoint, then SINK_DB_UNAVAILABLE is retryable', async () => {
    const sink = new DatabaseSink({ url: 'mysql://kefu:refused-My-42@127.0.0.1:1/kefu', outageRetryMs: 0 });
    const error = await rejection(sink.load('job/x'));
    await sink.close();
    expect(error.code).toBe('SINK_DB_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(JSON.stringify(error.toJSON())).not.toContain('refused-My-42');
  });

  it('given a server that stays down, when the outage outlasts outageRetryMs, then the write stops with SINK_DB_UNAVAILABLE after retrying', async () => {
    const sink = new DatabaseSink({ url: 'postgres://kefu@127.0.0.1:1/kefu', outageRetryMs: 700 });
    const startedAt = Date.now();
    const error = await rejection(sink.write(makeBatch([makeRecord(1)], 1)));
    await sink.close();
    expect(error.code).toBe('SINK_DB_UNAVAILABLE');
    // It retried for the budget rather than failing on the first refusal.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(700);
  });

  it('given a write waiting out an outage, when the sink is closed, then the write stops at once with KEFU_SINK_CLOSED', async () => {
    const sink = new DatabaseSink({ url: 'postgres://kefu@127.0.0.1:1/kefu', outageRetryMs: 600_000 });
    const writing = rejection(sink.write(makeBatch([makeRecord(1)], 1)));
    await sink.close();
    expect((await writing).code).toBe('KEFU_SINK_CLOSED');
  });

  it.skipIf(!mysql.available)(
    'given MySQL rejecting the credentials, when writing, then SINK_DB_AUTH_FAILED is not retryable and hides the password',
    async () => {
      const url = new URL(mysql.url);
      url.username = 'kefu_no_such_user';
      url.password = 'wrong-Pw-1234';
      const sink = new DatabaseSink({ url: url.href });
      const error = await rejection(sink.write(makeBatch([makeRecord(1)], 1)));
      await sink.close();
      expect(error.code).toBe('SINK_DB_AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(`${error.message} ${JSON.stringify(error.toJSON())}`).not.toContain('wrong-Pw-1234');
    },
  );

  it('given a SQLite path in a missing directory, when writing, then a typed, non-retryable error names the file', async () => {
    const sink = new DatabaseSink({ url: '/nonexistent-dir-kefu/sub/records.db' });
    const error = await rejection(sink.write(makeBatch([makeRecord(1)], 1)));
    await sink.close();
    expect(error.code).toBe('SINK_DB_AUTH_FAILED');
    expect(error.message).toContain('/nonexistent-dir-kefu/sub/records.db');
  });
});

describe('plugin', () => {
  it('given the descriptor, when its module is loaded into a container, then TOKENS.Sink is the configured DatabaseSink', async () => {
    expect(isKefuPlugin(plugin)).toBe(true);
    expect(plugin.kind).toBe('sink');
    const config = plugin.configSchema.parse({ url: 'state/kefu.db' });
    const module = plugin.module(config, {
      instanceId: 'archive',
      baseDir: '/srv/kefu',
      logger: silentLogger,
      httpClients: undefined as never,
    });
    const container = new Container();
    container.load(module);
    const sink = container.get<DatabaseSink>(TOKENS.Sink);
    expect(sink).toBeInstanceOf(DatabaseSink);
    expect(sink.id).toBe('archive');
    expect(sink.guarantee).toBe('exactly-once');
    expect(sink.target).toBe('sqlite:///srv/kefu/state/kefu.db');
    await sink.close();
  });

  it('given no sqliteThread or cacheSizeMiB, when validated, then SQLite runs on the main thread with an 8 MiB cache; a bad value names the field and the choices', () => {
    expect(plugin.configSchema.parse({ url: './kefu.db' })).toMatchObject({ sqliteThread: 'main', cacheSizeMiB: 8 });
    expect(plugin.configSchema.parse({ url: './kefu.db', sqliteThread: 'worker' }).sqliteThread).toBe('worker');
    const error = thrown(() => new DatabaseSink(JSON.parse('{ "url": ":memory:", "sqliteThread": "thread" }')));
    expect(error.code).toBe('SINK_DB_CONFIG_INVALID');
    expect(error.message).toMatch(/sqliteThread/);
    expect(error.message).toMatch(/main|worker/);
  });

  it('given a config without url, when validated, then the error names `url`', () => {
    const result = plugin.configSchema.safeParse({ table: 'x' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['url']);
  });
});
