import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerSecret } from '@kefu/core';
import { databaseSinkError } from './errors.js';

/** The database kinds the sink speaks to. */
export type DatabaseDialectName = 'sqlite' | 'postgres' | 'mysql';

/** Where the records go, parsed from the configured `url`. */
export type DatabaseTarget =
  | { dialect: 'sqlite' /** Absolute file path, or `:memory:`. */; path: string; display: string }
  | {
      dialect: 'postgres' | 'mysql' /** The URL as given, password included (never printed). */;
      url: string;
      display: string;
    };

/** A URL with its password replaced, safe for messages and logs. */
export function redactDatabaseUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

/**
 * Parses a sink URL: `postgres://` / `postgresql://`, `mysql://` / `mariadb://`,
 * `sqlite:///abs/path.db`, `sqlite:relative.db`, `file:` URLs, `:memory:`, or a plain path
 * (relative paths are resolved against `baseDir`). Registers the URL's password as a secret.
 */
export function parseDatabaseUrl(raw: string, baseDir: string = process.cwd()): DatabaseTarget {
  const text = raw.trim();
  if (text.length === 0) {
    throw databaseSinkError('SINK_DB_CONFIG_INVALID', '`url` is empty: give a file path or a database URL');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql' || scheme === 'mysql' || scheme === 'mariadb') {
    let url: URL;
    try {
      url = new URL(text);
    } catch (cause) {
      throw databaseSinkError('SINK_DB_CONFIG_INVALID', `\`url\` is not a valid ${scheme} URL`, { cause });
    }
    // The password sits inside the URL: register it (raw and decoded) before anything can print it.
    registerSecret(url.password);
    registerSecret(decodeURIComponent(url.password));
    const dialect = scheme.startsWith('postgres') ? 'postgres' : 'mysql';
    if (!url.hostname) {
      // Not quoted: a URL this broken may hide its password where URL parsing cannot find it.
      throw databaseSinkError(
        'SINK_DB_CONFIG_INVALID',
        `\`url\` (${scheme}:…) names no host; write ${scheme}://user:password@host:port/database`,
      );
    }
    const href = dialect === 'mysql' && scheme === 'mariadb' ? `mysql:${text.slice(scheme.length + 1)}` : text;
    return { dialect, url: href, display: redactDatabaseUrl(url) };
  }
  if (scheme === 'sqlite' || scheme === 'file') {
    let path: string;
    if (text.slice(scheme.length + 1).startsWith('//')) {
      // sqlite:///abs/path.db and file:///abs/path.db are absolute paths.
      path = scheme === 'file' ? fileURLToPath(text) : decodeURIComponent(text.slice(scheme.length + 3));
    } else {
      path = decodeURIComponent(text.slice(scheme.length + 1));
    }
    return sqliteTarget(path, baseDir);
  }
  if (scheme !== undefined && scheme.length > 1 && text.slice(scheme.length + 1).startsWith('//')) {
    throw databaseSinkError(
      'SINK_DB_CONFIG_INVALID',
      `\`url\` scheme "${scheme}:" is not supported: use a file path, sqlite://, postgres:// or mysql://`,
    );
  }
  return sqliteTarget(text, baseDir);
}

function sqliteTarget(path: string, baseDir: string): DatabaseTarget {
  if (path.length === 0) {
    throw databaseSinkError('SINK_DB_CONFIG_INVALID', '`url` names no SQLite file: use e.g. sqlite:///var/lib/kefu.db');
  }
  if (path === ':memory:') return { dialect: 'sqlite', path, display: 'sqlite::memory:' };
  const absolute = isAbsolute(path) ? path : resolve(baseDir, path);
  return { dialect: 'sqlite', path: absolute, display: `sqlite://${absolute}` };
}
