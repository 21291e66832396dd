import { redactText, redactValue } from './redaction.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
  /** Receives one JSON line per entry (default: process.stderr). */
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
}

/** A logger writing one redacted JSON object per line: `{time, level, msg, ...fields}`. */
export function createJsonLogger(options: JsonLoggerOptions = {}): KefuLogger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bindings = options.bindings ?? {};
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[level] < threshold) return;
    const entry = redactValue({ time: new Date().toISOString(), level, msg: message, ...bindings, ...fields });
    write(redactText(JSON.stringify(entry)));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (more) => createJsonLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
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
