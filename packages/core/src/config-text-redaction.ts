import { isSensitiveName, redactText } from './redaction.js';

/**
 * Redaction of config text quoted in errors. A config that fails to parse was never
 * validated, so its secrets were never registered: a parser's excerpt of the broken line
 * (`secret: 45844cac…`) would print them. Everything quoted from a config file passes
 * through {@link redactConfigText}: values under secret-like keys, URL passwords, tokens
 * that look like keys, and every value the file holds under a secret-like key anywhere.
 */

const REDACTED = '[redacted]';

/**
 * True for config keys whose values are secrets: the names logs redact (`secret`,
 * `password`, `token`, `apiKey` …) and, in config files, any `…key` or `pass`
 * (`appKey`, `encodingAesKey`, NATS `pass`).
 */
export function isSecretConfigKey(name: string): boolean {
  return isSensitiveName(name) || /key$/i.test(name) || /^(?:pass|pwd)$/i.test(name);
}

/**
 * `key: value` or `"key": value` (YAML block or flow, JSON), up to a flow delimiter or the
 * line end. Keys start only where no word character precedes, so matching stays linear.
 */
const KEY_VALUE = /(?<![\w-])(["']?)([A-Za-z_][\w-]*)\1(\s*:\s*)([^,}\]\r\n]+)/g;
/** The password of `scheme://user:password@host`. */
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)([^\r\n@/]+)@/gi;
/**
 * The password of a URL cut before its `@` (a truncated file; a parser quoting the broken
 * line): `scheme://user:password` up to the line's end or a closing quote. One to five
 * digits there are a port (`https://host:8080`), not a password.
 */
const CUT_URL_PASSWORD =
  /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:@/"'`]*:)(?!\d{1,5}(?:["'`]|$))([^\s@/"'`]+)(?=["'`]|$)/gim;
/** Runs of key-like characters, candidates for {@link looksLikeSecret}. */
const TOKEN = /[A-Za-z0-9+=_]{12,}/g;

/**
 * True when a token looks like a generated key rather than a word or a name: at least 12
 * characters switching between letters and digits three times or more (hex and base64
 * keys do, identifiers such as `kefu_records_2024` do not).
 */
export function looksLikeSecret(token: string): boolean {
  if (token.length < 12) return false;
  let switches = 0;
  let previous: 'letter' | 'digit' | undefined;
  for (const character of token) {
    const kind = character >= '0' && character <= '9' ? 'digit' : /[A-Za-z]/.test(character) ? 'letter' : undefined;
    if (kind === undefined) continue;
    if (previous !== undefined && kind !== previous) switches += 1;
    previous = kind;
  }
  return switches >= 3;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  const quoted = /^(["'])(.*)\1$/.exec(trimmed);
  return quoted ? (quoted[2] ?? '') : trimmed.replace(/^["']/, '');
}

/**
 * The values a config text holds under secret-like keys and in URL passwords, found line
 * by line without parsing (the text may be broken): what an excerpt of it must not show.
 */
export function secretValuesInConfigText(text: string): string[] {
  const values = new Set<string>();
  for (const match of text.matchAll(KEY_VALUE)) {
    const value = unquote(match[4] ?? '');
    if (isSecretConfigKey(match[2] ?? '') && value.length >= 4) values.add(value);
  }
  for (const match of [...text.matchAll(URL_PASSWORD), ...text.matchAll(CUT_URL_PASSWORD)]) {
    const password = match[2] ?? '';
    if (password.length >= 4) {
      values.add(password);
      try {
        values.add(decodeURIComponent(password));
      } catch {
        // Not percent-encoded: the raw form is enough.
      }
    }
  }
  return [...values];
}

/**
 * Redacts text quoted from a config file (a parser's message or an excerpt of a line):
 * registered secrets, `known` values (e.g. {@link secretValuesInConfigText} of the whole
 * file), values after secret-like keys, URL passwords and tokens that look like keys.
 */
export function redactConfigText(text: string, known: readonly string[] = []): string {
  let result = redactText(text);
  // Longest first, so a value containing another is replaced whole.
  for (const value of [...known].sort((a, b) => b.length - a.length)) {
    if (value.length >= 4) result = result.split(value).join(REDACTED);
  }
  result = result.replace(KEY_VALUE, (match, quote: string, key: string, separator: string, value: string) =>
    isSecretConfigKey(key) && value.trim() !== '' && !value.trim().startsWith('[redacted')
      ? `${quote}${key}${quote}${separator}${REDACTED}`
      : match,
  );
  result = result.replace(URL_PASSWORD, (_match, before: string) => `${before}${REDACTED}@`);
  result = result.replace(CUT_URL_PASSWORD, (_match, before: string) => `${before}${REDACTED}`);
  return redactLikelySecrets(result);
}

/**
 * Registered secrets and tokens that look like keys ({@link looksLikeSecret}): for messages
 * about a config that name its keys (`config.secret: Required`) but may also quote a key
 * the parser found, which a broken file can make of a secret.
 */
export function redactLikelySecrets(text: string): string {
  return redactText(text).replace(TOKEN, (token) => (looksLikeSecret(token) ? REDACTED : token));
}
