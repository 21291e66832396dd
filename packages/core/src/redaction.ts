/**
 * Secret redaction. Every secret kefu is given (app secrets, tokens, client secrets,
 * HMAC keys) is registered here, and every log line and error message passes through
 * {@link redactText} / {@link redactValue}: a secret never leaves the process in clear.
 * The registry is process-wide on purpose, so an error built deep inside a plugin is
 * scrubbed without threading a redactor through every call.
 */

const REDACTED = '[redacted]';
const MIN_SECRET_LENGTH = 4;

/** The secrets registered so far and the pattern built from them (rebuilt when the set grew). */
interface SecretRegistry {
  readonly secrets: Set<string>;
  pattern: RegExp | undefined;
  patternSize: number;
}

// Kept on globalThis under a `Symbol.for` key: two copies of this version of core in one
// process (a plugin with its own nested copy) register into and redact from one registry.
const SECRET_REGISTRY_KEY = Symbol.for('kefu.redaction.secrets.v1');
const globalSlots = globalThis as { [SECRET_REGISTRY_KEY]?: SecretRegistry };
globalSlots[SECRET_REGISTRY_KEY] ??= { secrets: new Set(), pattern: undefined, patternSize: 0 };
const registry: SecretRegistry = globalSlots[SECRET_REGISTRY_KEY];

/** Field, header and query-parameter names whose values are always redacted. */
const SENSITIVE_NAME =
  /^(?:.*(?:secret|password|passwd|token|signature|authorization|api[-_]?key|hmac|credential|cookie).*|access_token|sign|nonce)$/i;

/** Registers a secret value so it is redacted everywhere from now on. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  registry.secrets.add(value);
}

/**
 * Names of addresses (`tokenUrl`, `token_endpoint`, `tokenPath`): their values are where to
 * connect, needed to fix a wrong one, not secrets. A secret inside one (a token query
 * parameter, a registered secret) is still redacted by {@link redactText}.
 */
const ADDRESS_NAME = /(?:url|uri|endpoint|path)$/i;

/** True when a field/header/parameter name denotes a secret (e.g. `access_token`, `Authorization`; not `tokenUrl`). */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name) && !ADDRESS_NAME.test(name);
}

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function currentPattern(): RegExp | undefined {
  if (registry.secrets.size === 0) return undefined;
  // The set only grows, so its size tells whether another copy of core added a secret.
  if (!registry.pattern || registry.patternSize !== registry.secrets.size) {
    // Longest first, so a secret containing another is replaced whole.
    const alternatives = [...registry.secrets]
      .sort((a, b) => b.length - a.length)
      .flatMap((s) => [escapeForRegExp(s), escapeForRegExp(encodeURIComponent(s))]);
    registry.pattern = new RegExp([...new Set(alternatives)].join('|'), 'g');
    registry.patternSize = registry.secrets.size;
  }
  return registry.pattern;
}

/**
 * Replaces registered secrets and the values of sensitive query parameters
 * (`access_token=…`, `secret=…`) in free text.
 */
export function redactText(text: string): string {
  const pattern = currentPattern();
  const result = pattern ? text.replace(pattern, REDACTED) : text;
  // A name is the whole run of word characters before `=` (from its first letter): runs
  // start only where no word character precedes, so each run is scanned once and a long
  // string without `=` costs linear time (a pattern that could start inside a run was
  // quadratic: 60 000 characters took 33 s).
  return result.replace(/(?<![\w-])([\w-]+)=([^&\s"'#]+)/g, (match, run: string) => {
    const name = run.replace(/^[\d-]+/, '');
    return name !== '' && isSensitiveName(name) ? `${run}=${REDACTED}` : match;
  });
}

/** Deep-copies a value for logging, redacting sensitive keys and registered secrets. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      ...('code' in value ? { code: (value as { code: unknown }).code } : {}),
    };
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] =
        isSensitiveName(key) && inner !== undefined && inner !== null && inner !== ''
          ? REDACTED
          : redactValue(inner, depth + 1);
    }
    return out;
  }
  return value;
}

/** Masks a secret for display: the first two characters and the length (`ab…(32)`). */
export function maskSecret(secret: string): string {
  return secret.length <= 4 ? '****' : `${secret.slice(0, 2)}…(${secret.length})`;
}
