// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config files hold ${ENV} placeholders
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_PLUGINS, formatErrorLine } from '@kefu/cli';
import { isKefuError, loadKefu, readKefuConfigFile, silentLogger } from '@kefu/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Secrets in config errors: a config file holding secrets is broken in many small ways
 * (a character deleted or inserted, a line duplicated, re-indented, swapped, the file cut
 * short) and read as `kefu` reads it; no error it produces — message, JSON form, the CLI's
 * line — shows any 12 characters of any secret. Each case has fresh secrets, so secrets
 * registered by an earlier case that parsed cannot hide a leak in a later one.
 */

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-config-redaction-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

interface Secrets {
  wechatSecret: string;
  wechatEnvSecret: string;
  youmiClientSecret: string;
  webhookSecret: string;
  databasePassword: string;
  natsToken: string;
}

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const alphanumeric = (length: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${length}}$`));
const secretsArbitrary: fc.Arbitrary<Secrets> = fc.record({
  wechatSecret: hex(32),
  wechatEnvSecret: hex(32),
  youmiClientSecret: alphanumeric(40),
  webhookSecret: hex(64),
  databasePassword: alphanumeric(20),
  natsToken: alphanumeric(30),
});

/** A config as users write it: secrets inline, from the environment, and inside a URL. */
function configText(secrets: Secrets): string {
  return `providers:
  - use: '@kefu/wechat-mp'
    id: wx
    config:
      baseUrl: http://127.0.0.1:1
      retry: { maxAttempts: 1 }
      accounts:
        - appId: wx1234567890abcdef
          secret: ${secrets.wechatSecret}
        - { appId: wx2234567890abcdef, secret: '\${WX_SECRET_2}' }
  - use: '@kefu/youmi'
    config:
      baseUrl: http://127.0.0.1:1
      tokenUrl: http://127.0.0.1:1/token
      clientId: kefu-client
      clientSecret: "${secrets.youmiClientSecret}"
      wechatIds: [10001]
sinks:
  - use: '@kefu/sink-http'
    config: { url: 'http://127.0.0.1:1/hook', secret: '${secrets.webhookSecret}', onPermanentFailure: fail }
  - use: '@kefu/sink-db'
    config:
      url: postgres://kefu:${secrets.databasePassword}@127.0.0.1:1/kefu
  - use: '@kefu/sink-nats'
    config: { servers: 'nats://127.0.0.1:1', credentials: { token: ${secrets.natsToken} } }
checkpoints: { use: sink, sink: sink-db }
sync: { batchSize: 100 }
`;
}

type Mutation =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'duplicate-line' | 'swap-lines'; line: number }
  | { kind: 'indent'; line: number; by: number }
  | { kind: 'truncate'; at: number };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      ':',
      ': ',
      '"',
      "'",
      '\t',
      '{',
      '}',
      '[',
      ']',
      '- ',
      '&a ',
      '*a',
      '!',
      '%',
      '@',
      '`',
      '|',
      '>',
      '#',
      ',',
      '? ',
      '\n',
      '  ',
    ),
  }),
  fc.record({ kind: fc.constantFrom('duplicate-line' as const, 'swap-lines' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(text: string, mutation: Mutation): string {
  const lines = text.split('\n');
  switch (mutation.kind) {
    case 'delete': {
      const at = mutation.at % text.length;
      return text.slice(0, at) + text.slice(at + mutation.length);
    }
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'duplicate-line': {
      const line = mutation.line % lines.length;
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\n');
    }
    case 'swap-lines': {
      const line = mutation.line % Math.max(1, lines.length - 1);
      [lines[line], lines[line + 1]] = [lines[line + 1] ?? '', lines[line] ?? ''];
      return lines.join('\n');
    }
    case 'indent': {
      const line = mutation.line % lines.length;
      const current = lines[line] ?? '';
      lines[line] =
        mutation.by >= 0 ? ' '.repeat(mutation.by) + current : current.replace(new RegExp(`^ {0,${-mutation.by}}`), '');
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, mutation.at % text.length);
  }
}

/** Everything a user can see of an error: its message, its JSON form and the CLI's line. */
function visibleForms(error: unknown): string[] {
  if (!isKefuError(error)) return [String(error), error instanceof Error ? (error.stack ?? '') : ''];
  return [error.message, JSON.stringify(error.toJSON()), formatErrorLine(error)];
}

/** The 12-character windows of a secret: none may appear, even of a secret a mutation cut. */
function leaks(output: string, secrets: Secrets): string[] {
  const found: string[] = [];
  for (const secret of Object.values(secrets)) {
    for (let start = 0; start + 12 <= secret.length; start++) {
      const window = secret.slice(start, start + 12);
      if (output.includes(window)) found.push(window);
    }
  }
  return found;
}

let caseNumber = 0;

/** Reads the file as `kefu` does (parse, interpolate, validate, compose) and returns what it showed. */
async function errorsOf(text: string, secrets: Secrets): Promise<string[]> {
  const path = join(scratch, `case-${caseNumber++}.yaml`);
  writeFileSync(path, text);
  const env = { WX_SECRET_2: secrets.wechatEnvSecret };
  const shown: string[] = [];
  try {
    await readKefuConfigFile(path, { env });
    const kefu = await loadKefu(path, { env, logger: silentLogger, bundledPlugins: BUNDLED_PLUGINS });
    await kefu.close();
  } catch (error) {
    shown.push(...visibleForms(error));
  }
  return shown;
}

describe('config errors never show secrets', () => {
  it('given the unbroken config, when read, then it loads (the mutations start from a valid file)', async () => {
    const secrets = fc.sample(secretsArbitrary, { numRuns: 1, seed: 1 })[0] as Secrets;
    expect(await errorsOf(configText(secrets), secrets)).toEqual([]);
  });

  it('given 250 configs broken in 1–3 ways, when read, then no error shows 12 characters of any secret (property)', async () => {
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(
        secretsArbitrary,
        fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }),
        async (secrets, mutations) => {
          const text = mutations.reduce(mutate, configText(secrets));
          const shown = await errorsOf(text, secrets);
          if (shown.length > 0) errors += 1;
          for (const output of shown) expect(leaks(output, secrets), output).toEqual([]);
        },
      ),
      { numRuns: 250 },
    );
    // Most mutations break the file: the property is about errors, so there must be many.
    expect(errors).toBeGreaterThan(100);
  });

  it('given a tab inside an account holding its secret (the reported case), when read, then the error names the line with the secret redacted', async () => {
    const secrets = fc.sample(secretsArbitrary, { numRuns: 1, seed: 2 })[0] as Secrets;
    const text = configText(secrets).replace('          secret: ', '\t  secret: ');
    const [message = ''] = await errorsOf(text, secrets);
    expect(message).toMatch(/not valid YAML at line 9, column 1: .*line 9: "\\t {2}secret: \[redacted\]"/);
    expect(leaks(message, secrets)).toEqual([]);
  });
});
