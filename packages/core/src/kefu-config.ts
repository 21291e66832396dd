import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  isSecretConfigKey,
  redactConfigText,
  redactLikelySecrets,
  secretValuesInConfigText,
} from './config-text-redaction.js';
import { didYouMean } from './did-you-mean.js';
import { coreError } from './errors.js';
import type { KefuPlugin } from './plugin.js';
import { isSensitiveName, registerSecret } from './redaction.js';
import { ServeConfigSchema } from './serve-config.js';
import { WorkerConfigSchema } from './worker-config-block.js';

/**
 * The kefu configuration file (`kefu.yaml`, `kefu.json`, `kefu.config.ts` …): which
 * plugin packages to load, their settings, where checkpoints live. One zod schema is
 * the source of truth for validation, for the TypeScript type and for the JSON Schema
 * editors use for completion ({@link kefuConfigJsonSchema}).
 */

/** Instance ids name providers and sinks in commands, checkpoints and logs. */
const InstanceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, `_`, `.` and `-`, starting with a letter or digit')
  .describe('Instance id, unique per section; defaults to the package name without its scope (`wechat-mp`).');

/**
 * The longest `use` value accepted: a package name has at most 214 characters (npm), a
 * path at most 4096 (PATH_MAX on Linux). Longer strings are refused before any work.
 */
export const MAX_PLUGIN_SPECIFIER_LENGTH = 4096;

/** A plugin package name or path, bounded so no check can be slow on a giant string. */
const PluginSpecifierSchema = z
  .string()
  .min(1)
  .max(MAX_PLUGIN_SPECIFIER_LENGTH, {
    error: (issue) =>
      `is ${String((issue.input as string | undefined)?.length)} characters long; a package name or path has at most ${MAX_PLUGIN_SPECIFIER_LENGTH}`,
  });

/** One plugin instance: the package to load, its instance id and its own `config` block. */
export const PluginInstanceConfigSchema = z.strictObject({
  use: PluginSpecifierSchema.describe(
    'Plugin package name (`@kefu/wechat-mp`) or a path relative to the config file (`./my-plugin.js`).',
  ),
  id: InstanceIdSchema.optional(),
  config: z.unknown().optional().describe("The plugin's settings, validated by the plugin's own schema."),
});
/** One plugin instance in a config file. */
export type PluginInstanceConfig = z.infer<typeof PluginInstanceConfigSchema>;

/** Values of `checkpoints.use` that name built-in stores rather than plugin packages. */
export const BUILT_IN_CHECKPOINT_STORES = ['memory', 'file', 'sink'] as const;

/**
 * Where the sync pipeline keeps checkpoints: `memory` (default, lost on exit), `file`
 * (`path`), `sink` (a configured sink that also stores checkpoints, e.g. the SQL sink,
 * for exactly-once), or a plugin package of kind `checkpoint-store`.
 */
export const CheckpointsConfigSchema = z
  .strictObject({
    use: PluginSpecifierSchema.describe('`memory`, `file`, `sink`, or a checkpoint-store plugin package name.'),
    path: z.string().min(1).optional().describe('For `use: file`: the JSON file, relative to the config file.'),
    sink: InstanceIdSchema.optional().describe('For `use: sink`: the id of the sink that stores checkpoints.'),
    id: InstanceIdSchema.optional(),
    config: z.unknown().optional().describe("For a plugin: the plugin's settings."),
  })
  .superRefine((value, context) => {
    if (value.use === 'file' && value.path === undefined) {
      context.addIssue({ code: 'custom', path: ['path'], message: 'Required with `use: file` (the checkpoint file)' });
    }
    if (value.use === 'sink' && value.sink === undefined) {
      context.addIssue({ code: 'custom', path: ['sink'], message: 'Required with `use: sink` (a sink id)' });
    }
  });
/** The `checkpoints` block. */
export type CheckpointsConfig = z.infer<typeof CheckpointsConfigSchema>;

/** Defaults for `kefu sync` / `Kefu.sync()`; each can be overridden per run. */
export const SyncDefaultsSchema = z
  .strictObject({
    job: z
      .string()
      .min(1)
      .optional()
      .describe('Job name: checkpoints are keyed `job/provider/account` (default `default`).'),
    batchSize: z.number().int().positive().optional().describe('Records per sink batch.'),
    maxBatchWaitMs: z.number().int().positive().optional().describe('A partial batch is written after this long.'),
    prefetchPages: z.number().int().positive().optional().describe('Pages fetched ahead of the sinks, per stream.'),
    maxBufferedBytes: z
      .number()
      .int()
      .min(1024)
      .optional()
      .describe(
        'Bytes of records read and not yet committed, per stream, at most (plus one page; default 32 MiB, estimated): bounds memory when records are large.',
      ),
    concurrency: z.number().int().positive().optional().describe('Streams synced at the same time.'),
    onInvalidRecord: z
      .enum(['fail', 'skip', 'dead-letter'])
      .optional()
      .describe(
        'A record that fails validation: `fail` its target (default), `skip` it, or `dead-letter` it (append it to `deadLetterPath`); skipped records are counted in the summary.',
      ),
    deadLetterPath: z
      .string()
      .min(1)
      .optional()
      .describe('For `onInvalidRecord: dead-letter`: the JSONL file (mode 0600), relative to the config file.'),
  })
  .superRefine((value, context) => {
    if (value.onInvalidRecord === 'dead-letter' && value.deadLetterPath === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['deadLetterPath'],
        message: 'Required with `onInvalidRecord: dead-letter` (the JSONL file receiving invalid records)',
      });
    }
  });
/** Sync defaults from the config file. */
export type SyncDefaults = z.infer<typeof SyncDefaultsSchema>;

/** The whole configuration file. */
export const KefuConfigSchema = z.strictObject({
  $schema: z.string().optional().describe('JSON Schema for editor completion (`kefu config schema` writes one).'),
  providers: z.array(PluginInstanceConfigSchema).default([]).describe('Customer-service platforms to read from.'),
  sinks: z.array(PluginInstanceConfigSchema).default([]).describe('Where records go.'),
  checkpoints: CheckpointsConfigSchema.optional(),
  logger: z
    .strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
    .optional()
    .describe('Structured JSON logs on stderr.'),
  sync: SyncDefaultsSchema.optional(),
  serve: ServeConfigSchema.optional().describe('`kefu serve`: push receivers, spool, limits, scheduled backfill.'),
  worker: WorkerConfigSchema.optional().describe(
    '`kefu worker`: concurrency, resync interval or cron, retries, heartbeat.',
  ),
});
/** A validated configuration. */
export type KefuConfig = z.output<typeof KefuConfigSchema>;
/** A configuration as written (before defaults). */
export type KefuConfigInput = z.input<typeof KefuConfigSchema>;

/** Formats a zod path the way config files read: `providers[0].config.accounts.0.secret`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += out === '' ? String(segment) : `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out || '(root)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** The parts of zod's internal schema definitions {@link knownKeysAt} walks through. */
interface SchemaDefinition {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  element?: unknown;
  valueType?: unknown;
  options?: readonly unknown[];
  left?: unknown;
  right?: unknown;
  getter?: () => unknown;
}

function definitionOf(schema: unknown): SchemaDefinition | undefined {
  return (schema as { _zod?: { def?: SchemaDefinition } } | undefined)?._zod?.def;
}

/**
 * The keys an object schema accepts at `path` of the input (through optional, default,
 * pipe, array, record, union and lazy wrappers): what "did you mean" suggests from when a
 * strict object meets an unknown key. Empty when the path leads to no object schema.
 */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown, rest: readonly PropertyKey[], depth: number): void => {
    const definition = definitionOf(node);
    if (!definition || depth > 64) return;
    switch (definition.type) {
      case 'object': {
        const shape = definition.shape ?? {};
        if (rest.length === 0) for (const key of Object.keys(shape)) keys.add(key);
        else if (typeof rest[0] === 'string' && rest[0] in shape) visit(shape[rest[0]], rest.slice(1), depth + 1);
        return;
      }
      case 'array':
        if (rest.length > 0 && typeof rest[0] === 'number') visit(definition.element, rest.slice(1), depth + 1);
        return;
      case 'record':
        if (rest.length > 0) visit(definition.valueType, rest.slice(1), depth + 1);
        return;
      case 'union':
        for (const option of definition.options ?? []) visit(option, rest, depth + 1);
        return;
      case 'intersection':
        visit(definition.left, rest, depth + 1);
        visit(definition.right, rest, depth + 1);
        return;
      case 'pipe':
        visit(definition.in, rest, depth + 1);
        return;
      case 'lazy':
        visit(definition.getter?.(), rest, depth + 1);
        return;
      default:
        // optional, nullable, default, prefault, readonly, catch, nonoptional …
        if (definition.innerType !== undefined) visit(definition.innerType, rest, depth + 1);
    }
  };
  visit(schema, path, 0);
  return [...keys];
}

/**
 * One line per zod issue, `path: message`, with "Required" for missing values (zod 4
 * says "expected string, received undefined", which reads badly in a config error).
 * Given the schema, an unknown key (strict objects) names the key and the nearest known
 * one: ``config.baseUr: unknown key `baseUr` (did you mean `baseUrl`?)``.
 */
export function describeZodIssues(
  error: z.ZodError,
  input: unknown,
  formatPath: (path: readonly PropertyKey[]) => string = formatConfigPath,
  schema?: z.ZodType,
): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map((key) => {
        const hint = didYouMean(key, known) || (known.length > 0 ? `; known keys: ${known.join(', ')}` : '');
        return `${formatPath([...issue.path, key])}: unknown key \`${key}\`${hint}`;
      });
    }
    const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
    const message = missing ? `Required (expected ${issue.expected})` : issue.message;
    return [`${formatPath(issue.path)}: ${message}`];
  });
}

/** Options of {@link parseKefuConfig} and {@link readKefuConfigFile}. */
export interface ParseKefuConfigOptions {
  /** Variables for `${NAME}` interpolation (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Where the config came from, for messages (a file path). */
  source?: string;
}

const PLACEHOLDER = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string of a parsed config with
 * environment variables; `$${NAME}` stays literal `${NAME}`. All missing variables are
 * reported at once, each with the field that uses it.
 */
export function interpolateEnv<T>(
  value: T,
  env: Record<string, string | undefined> = process.env,
  source = 'config',
): T {
  assertNoCycles(value, source);
  const missing: string[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') {
      const key = path.at(-1);
      const secretPosition = typeof key === 'string' && isSecretConfigKey(key);
      return node.replace(
        PLACEHOLDER,
        (match, escaped: string | undefined, name: string, fallback: string | undefined, offset: number) => {
          if (escaped) return match.slice(1);
          const found = env[name];
          // Like the shell's `${NAME:-default}`: an empty variable takes the default.
          const value =
            found !== undefined && (found !== '' || fallback === undefined) ? found : (fallback ?? undefined);
          if (value === undefined) {
            missing.push(`${name} (used at ${formatConfigPath(path)})`);
            return match;
          }
          // A value landing under a secret key, from a secret-named variable, or as a URL's
          // password is a secret from now on, whatever later errors quote.
          if (secretPosition || isSensitiveName(name) || isUrlPassword(node, offset)) registerSecret(value);
          return value;
        },
      );
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, walk(inner, [...path, key])]));
    }
    return node;
  };
  const result = walk(value, []) as T;
  if (missing.length > 0) {
    throw coreError(
      'KEFU_CONFIG_INVALID',
      `${source}: environment variable${missing.length > 1 ? 's' : ''} not set: ${missing.join(', ')}. Set ${missing.length > 1 ? 'them' : 'it'} or write \${NAME:-default}`,
      { details: { missing: missing.map((entry) => entry.split(' ')[0]) } },
    );
  }
  return result;
}

/** True when the `${…}` at `offset` of `text` sits where a URL's password goes (`scheme://user:…@`). */
function isUrlPassword(text: string, offset: number): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:$/i.test(text.slice(0, offset)) && text.indexOf('@', offset) > offset;
}

/**
 * Throws KEFU_CONFIG_INVALID when a parsed config refers to itself (a YAML alias inside its
 * own anchor, `a: &x [*x]`): walking it would never end.
 */
export function assertNoCycles(value: unknown, source = 'config'): void {
  const ancestors = new Set<object>();
  const visit = (node: unknown, path: PropertyKey[]): void => {
    if (node === null || typeof node !== 'object') return;
    if (ancestors.has(node)) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `${source}: ${formatConfigPath(path)} refers to itself (a YAML alias inside its own anchor); write the value out instead`,
        { details: { source, field: formatConfigPath(path) } },
      );
    }
    ancestors.add(node);
    for (const [key, inner] of Object.entries(node)) visit(inner, [...path, Array.isArray(node) ? Number(key) : key]);
    ancestors.delete(node);
  };
  visit(value, []);
}

/**
 * Registers every string under a secret key (`secret`, `token`, `password`, `appKey` …)
 * and every URL password (`postgres://user:…@host`) so logs never show them.
 */
export function registerConfigSecrets(value: unknown, depth = 0): void {
  if (depth > 16 || value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === 'string' && isSecretConfigKey(key)) registerSecret(inner);
    else if (typeof inner === 'string')
      for (const password of secretValuesInConfigText(inner)) registerSecret(password);
    else registerConfigSecrets(inner, depth + 1);
  }
}

/** Validates a parsed configuration against {@link KefuConfigSchema}; errors name every bad field. */
export function parseKefuConfig(raw: unknown, options: ParseKefuConfigOptions = {}): KefuConfig {
  const source = options.source ?? 'config';
  assertNoCycles(raw, source);
  // Before validating: an invalid config's errors must not show its secrets either.
  registerConfigSecrets(raw);
  const result = KefuConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = describeZodIssues(result.error, raw, formatConfigPath, KefuConfigSchema).map((line) =>
      redactLikelySecrets(line),
    );
    throw coreError('KEFU_CONFIG_INVALID', `${source}: ${lines.join('; ')}`, {
      details: { source, issues: lines },
    });
  }
  return result.data;
}

/**
 * The error for a config file that does not parse: the parser's reason, the position, and
 * the line as the file has it, with everything secret-looking redacted (the file was never
 * validated, so its secrets were never registered).
 */
function configSyntaxError(
  path: string,
  format: 'JSON' | 'YAML',
  text: string,
  reason: string,
  offset: number | undefined,
  knownSecrets: readonly string[],
) {
  const secrets = [...knownSecrets, ...secretValuesInConfigText(text)];
  let where = '';
  let excerpt = '';
  const details: Record<string, unknown> = { source: path, format };
  if (offset !== undefined && offset >= 0 && offset <= text.length) {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const lineText = text.split('\n')[line - 1] ?? '';
    where = ` at line ${line}, column ${column}`;
    // Redacted whole (a cut could halve a secret), then around the column on long lines.
    const redacted = redactConfigText(lineText.trimEnd(), secrets);
    const start = Math.max(0, Math.min(column - 80, redacted.length - 160));
    const shown = `${start > 0 ? '…' : ''}${redacted.slice(start, start + 160)}${start + 160 < redacted.length ? '…' : ''}`;
    excerpt = ` — line ${line}: ${JSON.stringify(shown)}`;
    Object.assign(details, { line, column });
  }
  return coreError(
    'KEFU_CONFIG_INVALID',
    `${path}: not valid ${format}${where}: ${redactConfigText(reason, secrets)}${excerpt}`,
    { details },
  );
}

/** Parses YAML; syntax errors become {@link configSyntaxError}s, never the parser's own code frame. */
function parseYamlConfig(path: string, text: string): unknown {
  // parseDocument (not parse): parse prints warnings with an excerpt of the file to the console.
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const error = document.errors[0];
  if (error) {
    // The broken file's values under secret keys, as far as the parser got.
    const secrets: string[] = [];
    try {
      collectSecretValues(document.toJS({ maxAliasCount: 100 }), secrets);
    } catch {
      // Too broken to read: the line-by-line scan in configSyntaxError still applies.
    }
    throw configSyntaxError(path, 'YAML', text, error.message, error.pos[0], secrets);
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    // Aliases expanding past the limit (a "billion laughs" file).
    throw configSyntaxError(path, 'YAML', text, (cause as Error).message, undefined, []);
  }
}

/** Strings under secret keys of a parsed value (cycles and depth bounded). */
function collectSecretValues(value: unknown, into: string[], depth = 0): void {
  if (depth > 16 || value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === 'string' && isSecretConfigKey(key)) into.push(inner);
    else collectSecretValues(inner, into, depth + 1);
  }
}

/** Parses JSON; syntax errors become {@link configSyntaxError}s (V8 quotes the input in its messages). */
function parseJsonConfig(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const reason = message.replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, '');
    throw configSyntaxError(path, 'JSON', text, reason, position === undefined ? undefined : Number(position), []);
  }
}

/** File extensions {@link readKefuConfigFile} understands. */
export const CONFIG_FILE_EXTENSIONS = ['.json', '.yaml', '.yml', '.ts', '.mts', '.js', '.mjs'] as const;

/**
 * Reads and validates a config file. JSON and YAML get `${ENV}` interpolation; code
 * files (`.ts`, `.js`, `.mjs`) export the config (or a function returning it) as
 * default and read `process.env` themselves.
 */
export async function readKefuConfigFile(path: string, options: ParseKefuConfigOptions = {}): Promise<KefuConfig> {
  const absolute = resolve(path);
  const extension = extname(absolute).toLowerCase();
  if (!(CONFIG_FILE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw coreError(
      'KEFU_CONFIG_INVALID',
      `${path}: unsupported config file type "${extension || '(none)'}"; use one of ${CONFIG_FILE_EXTENSIONS.join(', ')}`,
    );
  }
  let raw: unknown;
  if (extension === '.json' || extension === '.yaml' || extension === '.yml') {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      throw coreError('KEFU_CONFIG_INVALID', `${path}: cannot read the config file (${(error as Error).message})`, {
        cause: error,
      });
    }
    raw = extension === '.json' ? parseJsonConfig(path, text) : parseYamlConfig(path, text);
    raw = interpolateEnv(raw, options.env ?? process.env, path);
  } else {
    let namespace: { default?: unknown };
    try {
      namespace = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
    } catch (error) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `${path}: importing the config module failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    raw = typeof namespace.default === 'function' ? await (namespace.default as () => unknown)() : namespace.default;
    if (raw === undefined) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `${path}: the config module has no default export; write \`export default { … }\``,
      );
    }
  }
  return parseKefuConfig(raw ?? {}, { ...options, source: path });
}

/** Helps `kefu.config.ts` authors: returns its argument, typed. */
export function defineKefuConfig(config: KefuConfigInput): KefuConfigInput {
  return config;
}

/**
 * The JSON Schema of the config file for editor completion (`$schema`). With `plugins`,
 * each provider/sink entry is also checked against the named plugin's own config schema.
 */
export function kefuConfigJsonSchema(plugins: readonly KefuPlugin[] = []): Record<string, unknown> {
  const entryFor = (kind: KefuPlugin['kind']) => {
    const known = plugins
      .filter((plugin) => plugin.kind === kind)
      .map((plugin) =>
        PluginInstanceConfigSchema.extend({
          use: z.literal(plugin.name),
          config: (plugin.configSchema as z.ZodType).optional(),
        }),
      );
    return known.length === 0 ? PluginInstanceConfigSchema : z.union([...known, PluginInstanceConfigSchema]);
  };
  const schema =
    plugins.length === 0
      ? KefuConfigSchema
      : KefuConfigSchema.extend({
          providers: z.array(entryFor('provider')).default([]),
          sinks: z.array(entryFor('sink')).default([]),
        });
  // Plugin schemas may hold transforms or refinements JSON Schema cannot express: those become `{}`.
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  for (const [section, kind] of [
    ['providers', 'provider'],
    ['sinks', 'sink'],
  ] as const) {
    excludeKnownPluginNames(
      jsonSchema,
      section,
      plugins.filter((plugin) => plugin.kind === kind).map((plugin) => plugin.name),
    );
  }
  return jsonSchema;
}

/**
 * The catch-all entry (any other plugin, by name or path) must not match a known plugin's
 * name, or `use: '@kefu/wechat-mp'` with a misspelled config key would pass through it and
 * editors would not flag the typo.
 */
function excludeKnownPluginNames(jsonSchema: Record<string, unknown>, section: string, names: readonly string[]): void {
  if (names.length === 0) return;
  const items = (jsonSchema.properties as Record<string, { items?: { anyOf?: unknown[] } }> | undefined)?.[section]
    ?.items;
  const catchAll = items?.anyOf?.at(-1) as { properties?: { use?: Record<string, unknown> } } | undefined;
  // A negative lookahead rather than `not: { enum }`: more validators and editors support it.
  const alternatives = names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
  if (catchAll?.properties?.use) catchAll.properties.use.pattern = `^(?!(?:${alternatives})$)`;
}

/**
 * Validates a component's settings with its schema, or throws the component's own
 * config error naming every bad field (``wechat-mp config: `accounts[0].secret`: Required
 * (expected string)``), with `field` (the first bad one, dotted) and every issue in
 * `details`. zod messages never quote the input value, so secrets cannot leak through them.
 *
 * @example
 * ```ts
 * export const parseFileSinkConfig = (input: unknown) =>
 *   parseConfig(FileSinkConfigSchema, input, 'file sink config', (message, details) =>
 *     fileSinkError('SINK_FILE_CONFIG_INVALID', message, { details }));
 * ```
 */
export function parseConfig<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  label: string,
  fail: (message: string, details: { field: string; issues: string[] }) => Error,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = describeZodIssues(result.error, input, (path) => `\`${formatConfigPath(path)}\``, schema).map((line) =>
    redactLikelySecrets(line),
  );
  const field = result.error.issues[0]?.path.map(String).join('.') || '(root)';
  throw fail(`${label}: ${issues.join('; ')}`, { field, issues });
}
