import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire, findPackageJSON } from 'node:module';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { redactLikelySecrets } from './config-text-redaction.js';
import { closestMatch } from './did-you-mean.js';
import { type CoreErrorCode, coreError, isKefuError, type KefuError } from './errors.js';
import { describeZodIssues, MAX_PLUGIN_SPECIFIER_LENGTH } from './kefu-config.js';
import {
  type CoreIdentity,
  coreIdentity,
  coreMismatch,
  isKefuPlugin,
  type KefuPlugin,
  loadedCoreCopies,
  type PluginKind,
} from './plugin.js';

/**
 * Loads plugins by package name, the way a user expects: resolved from the config file's
 * directory (so the user's own node_modules is used), checked by shape rather than
 * `instanceof`, refused when built against a copy of @kefu/core that disagrees, and configured
 * through the plugin's own zod schema with errors that name the instance and the field.
 */

/** A plugin instance as the caller writes it: a package name (or path) or a plugin object. */
export interface PluginInstanceSpec {
  /** A package name (`@kefu/wechat-mp`), a path relative to `baseDir`, or the plugin itself. */
  use: string | KefuPlugin;
  /** Instance id; defaults to the plugin name without its scope. */
  id?: string;
  /** The plugin's settings, validated by its `configSchema`. */
  config?: unknown;
}

/** What a spec's `use` may be: a package name or path, or a plugin object. */
export type PluginUse = string | KefuPlugin;

/**
 * The config a plugin accepts as written (its zod schema's input type), or `unknown`
 * for a `use` given by name, whose schema is only known at run time.
 */
export type PluginConfigInput<Use> = Use extends KefuPlugin<PluginKind, infer Schema> ? z.input<Schema> : unknown;

/** A plugin instance spec whose `config` is typed by its `use`. */
export interface TypedPluginInstanceSpec<Use extends PluginUse> {
  /** A package name (`@kefu/wechat-mp`), a path relative to `baseDir`, or the plugin itself. */
  use: Use;
  /** Instance id; defaults to the plugin name without its scope. */
  id?: string;
  /** The plugin's settings: typed by the plugin's schema when `use` is the plugin object. */
  config?: PluginConfigInput<Use>;
}

/**
 * A list of plugin instance specs, each `config` typed by its own `use`: with
 * `{ use: wechatMp, config: { acounts: … } }` the misspelled key does not compile.
 * Inferred from the `use` of each element (see `createKefu`).
 */
export type TypedPluginInstanceSpecs<Uses extends readonly PluginUse[]> = {
  readonly [Index in keyof Uses]: TypedPluginInstanceSpec<Uses[Index]>;
};

/** A loaded, validated plugin instance, ready to build its container module. */
export interface LoadedPluginInstance {
  plugin: KefuPlugin;
  /** The instance id (unique per section). */
  id: string;
  /** The config as the plugin's schema output it (defaults applied). */
  config: unknown;
  /** How the instance is named in messages: `providers[0] (wechat-mp)`. */
  label: string;
}

/** Import conditions used when a package's `exports` has no CommonJS entry. */
const IMPORT_CONDITIONS = ['node', 'import', 'module', 'default'];

/** A specifier as messages quote it: whole when short, else its start and its length. */
export function quoteSpecifier(specifier: string): string {
  return specifier.length <= 120 ? `"${specifier}"` : `"${specifier.slice(0, 60)}…" (${specifier.length} characters)`;
}

/** The package part of a specifier: `@kefu/wechat-mp/sub` → `@kefu/wechat-mp`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || specifier.startsWith('file:');
}

/** Picks the target of an `exports` entry for the import conditions (string, conditions object, or array). */
function exportsTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const item of entry) {
      const found = exportsTarget(item);
      if (found) return found;
    }
    return undefined;
  }
  if (entry !== null && typeof entry === 'object') {
    for (const [condition, inner] of Object.entries(entry)) {
      if (IMPORT_CONDITIONS.includes(condition)) {
        const found = exportsTarget(inner);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** Resolves an ESM-only package (no `require` entry) with import conditions, from its package.json. */
function resolveWithImportConditions(specifier: string, baseDir: string): string | undefined {
  const packageJsonPath = findPackageJSON(specifier, pathToFileURL(join(baseDir, 'kefu.config.js')));
  if (!packageJsonPath) return undefined;
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports?: unknown; main?: string };
  const subpath = `.${specifier.slice(packageNameOf(specifier).length)}`;
  const exportsField = manifest.exports;
  let target: string | undefined;
  if (exportsField !== undefined) {
    const isSubpathMap =
      exportsField !== null &&
      typeof exportsField === 'object' &&
      Object.keys(exportsField).some((k) => k.startsWith('.'));
    target = exportsTarget(
      isSubpathMap ? (exportsField as Record<string, unknown>)[subpath] : subpath === '.' ? exportsField : undefined,
    );
  } else if (subpath === '.') {
    target = manifest.main ?? 'index.js';
  }
  return target ? resolve(dirname(packageJsonPath), target) : undefined;
}

/**
 * Resolves a plugin specifier to a file URL from `baseDir`: paths relative to it, and
 * package names through `baseDir`'s node_modules chain (CommonJS or ESM-only exports).
 */
export function resolvePluginSpecifier(specifier: string, baseDir: string): string {
  if (isPathSpecifier(specifier)) {
    const absolute = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(baseDir, specifier);
    if (!existsSync(absolute)) {
      throw coreError(
        'KEFU_PLUGIN_NOT_FOUND',
        `plugin file ${quoteSpecifier(absolute)} does not exist; check the path in \`use\``,
        { details: { specifier: specifier.slice(0, 256), baseDir } },
      );
    }
    return pathToFileURL(absolute).href;
  }
  const requireFromConfig = createRequire(join(baseDir, 'kefu.config.js'));
  let resolved: string | undefined;
  try {
    resolved = requireFromConfig.resolve(specifier);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // ESM-only packages have no `require` condition: resolve them with import conditions.
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'ERR_REQUIRE_ESM') {
      resolved = resolveWithImportConditions(specifier, baseDir);
    }
  }
  if (!resolved) {
    const name = packageNameOf(specifier);
    throw coreError(
      'KEFU_PLUGIN_NOT_FOUND',
      `plugin package ${quoteSpecifier(specifier)} is not installed where the config is (${baseDir}); install it there: \`pnpm add ${name}\` (or \`npm install ${name}\`)`,
      { details: { specifier: specifier.slice(0, 256), baseDir, install: `pnpm add ${name}` } },
    );
  }
  return pathToFileURL(resolved).href;
}

/** The plugin a module exports as `plugin`, as default, or as `default.plugin` (CommonJS interop). */
function pluginFromNamespace(namespace: Record<string, unknown>): unknown {
  const defaultExport = namespace.default as Record<string, unknown> | undefined;
  const candidates = [namespace.plugin, defaultExport, defaultExport?.plugin];
  return candidates.find((candidate) => isKefuPlugin(candidate)) ?? candidates.find((c) => c !== undefined);
}

/** Imports a plugin package (or file) from `baseDir` and checks that it exports a kefu plugin. */
export async function importPlugin(specifier: string, baseDir: string): Promise<KefuPlugin> {
  const url = resolvePluginSpecifier(specifier, baseDir);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw coreError(
      'KEFU_PLUGIN_LOAD_FAILED',
      `plugin "${specifier}" was found at ${url} but importing it failed: ${(error as Error).message}`,
      { cause: error, details: { specifier, url } },
    );
  }
  const candidate = pluginFromNamespace(namespace);
  if (!isKefuPlugin(candidate)) {
    const exported = Object.keys(namespace).join(', ') || '(nothing)';
    throw coreError(
      'KEFU_PLUGIN_INVALID',
      `"${specifier}" does not export a kefu plugin: expected \`export const plugin = definePlugin({…})\` or a default export with kefuPlugin, name, kind, configSchema and module; it exports ${exported}`,
      { details: { specifier, url, exports: Object.keys(namespace) } },
    );
  }
  return candidate;
}

/**
 * Throws KEFU_PLUGIN_DUPLICATE_CORE when `plugin` was defined with a copy of @kefu/core that
 * cannot share the runtime's container (another version, or other DI tokens). Another copy
 * of the same version, installed at another path, is accepted: see {@link coreMismatch}.
 */
export function assertSameCore(plugin: KefuPlugin, source: string): void {
  const theirs = plugin.core;
  // Plugins written without definePlugin carry no marker: they can only be checked by shape.
  if (!theirs) return;
  const mismatch = coreMismatch(theirs);
  if (mismatch === undefined) return;
  const fix = duplicateCoreFix(theirs);
  const copies = loadedCoreCopies().map((copy) => `${copy.version} at ${copy.location}`);
  throw coreError(
    'KEFU_PLUGIN_DUPLICATE_CORE',
    `plugin ${plugin.name} (${source}) cannot share the runtime's container: ${mismatch}. Its @kefu/core is at ${theirs.location}, the runtime's at ${coreIdentity.location}. ${fix.text}`,
    {
      details: {
        plugin: plugin.name,
        pluginCore: theirs,
        runtimeCore: coreIdentity,
        loadedCopies: copies,
        ...(fix.directory ? { fix: { directory: fix.directory, command: fix.command } } : {}),
      },
    },
  );
}

/**
 * How to make the plugin resolve the runtime's version of @kefu/core. Its copy lives in a
 * project's `node_modules` (a plugin under development, or the app itself): installing the
 * runtime's version there replaces it. A copy nested in another package's `node_modules`
 * is that package's own dependency: only another release of that package changes it.
 */
function duplicateCoreFix(theirs: CoreIdentity): { text: string; directory?: string; command?: string } {
  const version = coreIdentity.version;
  const path = theirs.location.startsWith('file:') ? fileURLToPath(theirs.location) : theirs.location;
  const marker = `${sep}node_modules${sep}`;
  // pnpm keeps packages in node_modules/.pnpm/<id>/node_modules/…: the project is before .pnpm.
  const pnpmStore = path.indexOf(`${marker}.pnpm${sep}`);
  const installed = pnpmStore >= 0 ? pnpmStore : path.lastIndexOf(`${marker}@kefu${sep}core${sep}`);
  // Another version can also be met from the other side; a modified copy of the same version cannot.
  const runtimeFix =
    theirs.version === version ? 'replacing the modified copy' : `or move the runtime to @kefu/core ${theirs.version}`;
  if (installed < 0) {
    return {
      text: `Fix: make the plugin resolve @kefu/core ${version} (a peerDependency of the plugin), ${runtimeFix}.`,
    };
  }
  const directory = path.slice(0, installed);
  const owner = directory.lastIndexOf(marker);
  if (owner >= 0) {
    const owningPackage = directory
      .slice(owner + marker.length)
      .split(sep)
      .join('/');
    return {
      text: `Fix: ${owningPackage} brings its own @kefu/core ${theirs.version} as a dependency; install a release of ${owningPackage} that declares @kefu/core as a peerDependency and accepts ${version}, ${runtimeFix}.`,
    };
  }
  const command = `npm install @kefu/core@${version}`;
  return {
    text: `Fix: run \`${command}\` (pnpm: \`pnpm add @kefu/core@${version}\`) in ${directory}, keeping @kefu/core a peerDependency of the plugin, ${runtimeFix}.`,
    directory,
    command,
  };
}

/** Validates an instance's `config` with the plugin's schema; errors name the instance and every field. */
export function validatePluginConfig(plugin: KefuPlugin, config: unknown, label: string): unknown {
  const input = config ?? {};
  const result = plugin.configSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = describeZodIssues(
    result.error,
    input,
    (path) => (path.length === 0 ? 'config' : `config.${path.map(String).join('.')}`),
    plugin.configSchema,
  ).map((line) => redactLikelySecrets(line));
  throw coreError('KEFU_CONFIG_INVALID', `${label} ${lines.join(`; ${label} `)}`, {
    details: { instance: label, plugin: plugin.name, issues: lines },
  });
}

/** The default instance id of a plugin: its name without the npm scope (`@kefu/wechat-mp` → `wechat-mp`). */
export function defaultInstanceId(plugin: KefuPlugin): string {
  const last = plugin.name.split('/').pop() ?? plugin.name;
  return last.replace(/[^A-Za-z0-9_.-]/g, '-') || plugin.kind;
}

/**
 * A plugin an application ships with, imported only when a config names it: a CLI that
 * bundles every plugin then loads (and keeps in memory) only those a run uses.
 */
export interface LazyBundledPlugin {
  /** The plugin's package name, as a config's `use` spells it; the loaded plugin must have this name. */
  readonly name: string;
  /** Imports the plugin. */
  load(): Promise<KefuPlugin>;
}

/** An entry of `bundledPlugins`: the plugin itself, or a {@link LazyBundledPlugin}. */
export type BundledPlugin = KefuPlugin | LazyBundledPlugin;

/** The plugin of a bundled entry, imported on first use for a {@link LazyBundledPlugin}. */
async function bundledPlugin(entry: BundledPlugin): Promise<KefuPlugin> {
  if (isKefuPlugin(entry)) return entry;
  const plugin = await entry.load();
  if (!isKefuPlugin(plugin) || plugin.name !== entry.name) {
    throw coreError(
      'KEFU_PLUGIN_INVALID',
      `the bundled plugin ${entry.name} loaded ${isKefuPlugin(plugin) ? `a plugin named ${plugin.name}` : 'no kefu plugin'}; the application's bundled plugin list is wrong`,
      { details: { plugin: entry.name } },
    );
  }
  return plugin;
}

const SECTION_KIND: Record<string, PluginKind> = {
  providers: 'provider',
  sinks: 'sink',
  checkpoints: 'checkpoint-store',
};

/**
 * Loads the plugin instances of one config section (`providers`, `sinks`, `checkpoints`):
 * imports, checks kind and core copy, validates config, assigns unique ids.
 */
export async function loadPluginInstances(
  section: 'providers' | 'sinks' | 'checkpoints',
  specs: readonly PluginInstanceSpec[],
  baseDir: string,
  bundledPlugins: readonly BundledPlugin[] = [],
): Promise<LoadedPluginInstance[]> {
  const expectedKind = SECTION_KIND[section] as PluginKind;
  const loaded: LoadedPluginInstance[] = [];
  const seen = new Map<string, string>();
  for (const [index, spec] of specs.entries()) {
    const position = section === 'checkpoints' ? section : `${section}[${index}]`;
    if (typeof spec.use === 'string' && spec.use.length > MAX_PLUGIN_SPECIFIER_LENGTH) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `${position}.use is ${spec.use.length} characters long; a package name or path has at most ${MAX_PLUGIN_SPECIFIER_LENGTH}`,
        { details: { field: `${position}.use`, length: spec.use.length } },
      );
    }
    const source = typeof spec.use === 'string' ? quoteSpecifier(spec.use) : `${spec.use.name} (object)`;
    let plugin: KefuPlugin;
    try {
      plugin =
        typeof spec.use === 'string'
          ? await importPluginOrBundled(spec.use, baseDir, bundledPlugins)
          : checkedPluginObject(spec.use);
    } catch (error) {
      throw isKefuError(error) ? prefixError(error, position) : error;
    }
    assertSameCore(plugin, source);
    const id = spec.id ?? defaultInstanceId(plugin);
    const label = `${position} (${id})`;
    if (plugin.kind !== expectedKind) {
      throw coreError(
        'KEFU_PLUGIN_INVALID',
        `${label}: ${plugin.name} is a ${plugin.kind} plugin, but ${section} needs a ${expectedKind} plugin; move it to the right section`,
        { details: { plugin: plugin.name, kind: plugin.kind, expected: expectedKind } },
      );
    }
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `${label}: id "${id}" is already used by ${previous}; give each instance its own \`id\``,
        { details: { id, section } },
      );
    }
    seen.set(id, label);
    loaded.push({ plugin, id, config: validatePluginConfig(plugin, spec.config, label), label });
  }
  return loaded;
}

/**
 * Imports a plugin from `baseDir`; when it is not installed there but an application
 * bundles a plugin of that name (the `kefu` CLI bundles the built-in ones), uses that.
 * An installed copy wins, so users can pin another version next to their config.
 */
async function importPluginOrBundled(
  specifier: string,
  baseDir: string,
  bundledPlugins: readonly BundledPlugin[],
): Promise<KefuPlugin> {
  try {
    return await importPlugin(specifier, baseDir);
  } catch (error) {
    if (!isKefuError(error) || error.code !== 'KEFU_PLUGIN_NOT_FOUND') throw error;
    const bundled = bundledPlugins.find((plugin) => plugin.name === specifier);
    if (bundled) return bundledPlugin(bundled);
    if (isPathSpecifier(specifier)) throw error;
    // A misspelled name: suggest the bundled or installed package it most likely meant.
    const suggestion = closestMatch(packageNameOf(specifier), [
      ...bundledPlugins.map((plugin) => plugin.name),
      ...installedPackageNames(baseDir),
    ]);
    if (suggestion === undefined) throw error;
    throw coreError('KEFU_PLUGIN_NOT_FOUND', `${error.message}; did you mean \`${suggestion}\`?`, {
      cause: error.cause,
      details: { ...error.details, suggestion },
    });
  }
}

/** Package names in the node_modules nearest to `baseDir` (scoped ones included), for suggestions. */
function installedPackageNames(baseDir: string): string[] {
  for (let directory = baseDir; ; directory = dirname(directory)) {
    const modules = join(directory, 'node_modules');
    if (existsSync(modules)) {
      const names: string[] = [];
      try {
        for (const entry of readdirSync(modules)) {
          if (entry.startsWith('.')) continue;
          if (entry.startsWith('@')) {
            for (const inner of readdirSync(join(modules, entry))) names.push(`${entry}/${inner}`);
          } else names.push(entry);
          if (names.length > 5000) break;
        }
      } catch {
        // Unreadable: no suggestions from it.
      }
      return names;
    }
    if (dirname(directory) === directory) return [];
  }
}

function checkedPluginObject(value: unknown): KefuPlugin {
  if (isKefuPlugin(value)) return value;
  throw coreError(
    'KEFU_PLUGIN_INVALID',
    '`use` is an object but not a kefu plugin: create it with `definePlugin({ name, kind, configSchema, module })`',
  );
}

/** The same error with the config position in front, so the user knows which entry failed. */
function prefixError(error: KefuError, position: string): KefuError {
  return coreError(error.code as CoreErrorCode, `${position}: ${error.message}`, {
    cause: error.cause ?? error,
    details: error.details,
    retryable: error.retryable,
  });
}
