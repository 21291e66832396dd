import { createJsonLogger, createKefu, fromPinoLogger, isPinoLikeLogger, registerSecret } from '@kefu/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

/** Captures a logger's lines, parsed. */
function capture() {
  const lines: string[] = [];
  return { lines, write: (line: string) => lines.push(line), parsed: () => lines.map((l) => JSON.parse(l)) };
}

/** A real pino logger writing into memory, as a Fastify app's `app.log` is. */
function pinoInMemory(level = 'info') {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(line) });
  return { logger, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), lines };
}

describe('createJsonLogger (pino)', () => {
  it('given an entry, then it writes one JSON line: level name, ISO time, bindings, fields, msg', () => {
    const out = capture();
    createJsonLogger({ level: 'info', write: out.write, bindings: { job: 'nightly' } })
      .child({ plugin: '@kefu/wechat-mp' })
      .info('sync done', { records: 3 });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).not.toContain('\n');
    const [entry] = out.parsed();
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'sync done',
      records: 3,
      job: 'nightly',
      plugin: '@kefu/wechat-mp',
    });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
  });

  it('given a level, then lower entries are dropped', () => {
    const out = capture();
    const logger = createJsonLogger({ level: 'warn', write: out.write });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(out.parsed().map((entry) => entry.level)).toEqual(['warn', 'error']);
  });

  it('given a registered secret, when it appears in a message, a field, a binding or an error, then it never reaches the output', () => {
    const secret = `pino-secret-${Math.random().toString(36).slice(2)}`;
    const out = capture();
    const logger = createJsonLogger({ level: 'debug', write: out.write });
    // Registered after the logger was made: redaction happens at write time.
    registerSecret(secret);
    logger.info(`calling with ${secret}`, { url: `https://api.example/?q=${secret}`, nested: { deep: [secret] } });
    logger.child({ note: secret }).warn('bound');
    logger.error('failed', { error: new Error(`refused ${secret}`) });
    logger.info('by name', { appSecret: 'not-registered-but-sensitive-by-name' });
    expect(out.lines).toHaveLength(4);
    for (const line of out.lines) expect(line).not.toContain(secret);
    expect(out.lines.join('\n')).not.toContain('not-registered-but-sensitive-by-name');
  });
});

describe('a pino / Fastify logger given to kefu', () => {
  it('given a pino logger, then it is recognised, and a kefu logger is not', () => {
    expect(isPinoLikeLogger(pinoInMemory().logger)).toBe(true);
    expect(isPinoLikeLogger(createJsonLogger({ write: () => {} }))).toBe(false);
  });

  it('given fromPinoLogger, when kefu logs (message, fields), then pino gets (fields, message): every field arrives, secrets redacted', () => {
    const secret = `fastify-secret-${Math.random().toString(36).slice(2)}`;
    registerSecret(secret);
    const target = pinoInMemory('debug');
    const logger = fromPinoLogger(target.logger).child({ plugin: 'wechat-mp' });
    logger.info('page fetched', { records: 100, account: 'wx1' });
    logger.debug(`token ${secret}`, { token: secret, other: secret });
    const [page, token] = target.parsed();
    expect(page).toMatchObject({ msg: 'page fetched', records: 100, account: 'wx1', plugin: 'wechat-mp', level: 30 });
    expect(token?.msg).toBe('token [redacted]');
    expect(target.lines.join('')).not.toContain(secret);
  });

  it('given createKefu({ logger: pinoLogger }), when the runtime and plugins log, then the lines carry their fields', async () => {
    const target = pinoInMemory('debug');
    const kefu = await createKefu({ logger: target.logger });
    kefu.logger.child({ plugin: 'probe' }).warn('watch out', { attempt: 2 });
    await kefu.close();
    expect(target.parsed()).toContainEqual(expect.objectContaining({ msg: 'watch out', attempt: 2, plugin: 'probe' }));
  });
});
