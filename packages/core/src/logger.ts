import { pino } from 'pino';
import { redactText, redactValue } from './redaction.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger. Implementations must redact (see redaction.ts). */
export interface KefuLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): KefuLogger;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Receives one JSON line per entry, without its newline (default: process.stderr). */
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
}

/**
 * A logger writing one redacted JSON object per line: `{level, time, ...bindings,
 * ...fields, msg}`, on pino. Field values are redacted by name and registered secrets
 * are scrubbed from the whole line just before it is written, so a secret registered
 * after the logger was made is still caught.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): KefuLogger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const destination = { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
        log: (fields) => redactValue(fields) as Record<string, unknown>,
      },
      hooks: { streamWrite: (line) => redactText(line) },
    },
    destination,
  );
  return fromPinoLogger(options.bindings ? logger.child(options.bindings) : logger);
}

/** The part of a pino (or Fastify) logger kefu calls: `(fields, message)` argument order. */
export interface PinoLikeLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child(bindings: Record<string, unknown>): PinoLikeLogger;
  /** pino's current level name; with `bindings` it tells a pino logger from a {@link KefuLogger}. */
  level: string;
  bindings(): Record<string, unknown>;
}

/** True when `logger` is a pino or Fastify logger (they take `(fields, message)`, kefu's take `(message, fields)`). */
export function isPinoLikeLogger(logger: unknown): logger is PinoLikeLogger {
  const candidate = logger as Partial<PinoLikeLogger> | null | undefined;
  return (
    typeof candidate?.bindings === 'function' &&
    typeof candidate.level === 'string' &&
    typeof candidate.info === 'function' &&
    typeof candidate.child === 'function'
  );
}

/**
 * Adapts a pino or Fastify logger (`app.log`) to {@link KefuLogger}: kefu's
 * `(message, fields)` become pino's `(fields, message)`, and fields and message are
 * redacted first, since that logger does not know kefu's secrets.
 *
 * @example
 * ```ts
 * const kefu = await createKefu({ providers, logger: fromPinoLogger(fastify.log) });
 * ```
 */
export function fromPinoLogger(logger: PinoLikeLogger): KefuLogger {
  const log =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void =>
      logger[level](redactValue(fields ?? {}) as object, redactText(message));
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (bindings) => fromPinoLogger(logger.child(redactValue(bindings) as Record<string, unknown>)),
  };
}

/** A {@link KefuLogger} as is, or a pino/Fastify logger adapted by {@link fromPinoLogger}. */
export function toKefuLogger(logger: KefuLogger | PinoLikeLogger): KefuLogger {
  return isPinoLikeLogger(logger) ? fromPinoLogger(logger) : logger;
}

/** A logger that drops everything. */
export const silentLogger: KefuLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
