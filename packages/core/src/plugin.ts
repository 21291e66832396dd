import { randomUUID } from 'node:crypto';
import type { ContainerModule } from 'inversify';
import type { z } from 'zod';
import type { CheckpointStore } from './checkpoint.js';
import type { HttpClientFactory } from './http-client.js';
import type { KefuLogger } from './logger.js';
import type { KefuProvider } from './provider.js';
import type { RecordSink } from './sink.js';

/** Service identifiers of the kefu container. Always inject by these symbols. */
export const TOKENS = {
  /** Every configured provider (`getAll`). */
  Provider: Symbol.for('kefu.Provider'),
  /** Every configured sink (`getAll`). */
  Sink: Symbol.for('kefu.Sink'),
  /** The checkpoint store of the runtime (one). */
  CheckpointStore: Symbol.for('kefu.CheckpointStore'),
  /** The structured logger (redacting). */
  Logger: Symbol.for('kefu.Logger'),
  /** Creates HTTP clients on undici with kefu's timeouts, retries and redaction. */
  HttpClientFactory: Symbol.for('kefu.HttpClientFactory'),
  /** The runtime's clock, replaceable in tests. */
  Clock: Symbol.for('kefu.Clock'),
  /**
   * An undici `Dispatcher` (a `ProxyAgent`, an `Agent` with a custom CA) every HTTP client
   * of the default factory sends through; unbound, each client opens its own pool.
   */
  HttpDispatcher: Symbol.for('kefu.HttpDispatcher'),
  /** A shared access-token store (`TokenStore`); unbound, providers use their configured one. */
  TokenStore: Symbol.for('kefu.TokenStore'),
} as const;

/** The runtime's clock (bound under {@link TOKENS.Clock}); tests bind a fake one. */
export interface KefuClock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
}

/** The wall clock. */
export const systemClock: KefuClock = { now: () => Date.now() };

/** The version of this copy of @kefu/core (kept equal to package.json by a test). */
export const CORE_VERSION = '0.1.0';

/** Which copy of @kefu/core a plugin was defined with; compared by the loader. */
export interface CoreIdentity {
  readonly version: string;
  /** Where this copy's code lives (module URL), for the error message. */
  readonly location: string;
  /** Random per evaluation of this module: two copies never share it. */
  readonly instance: string;
  /**
   * The DI tokens of this copy ({@link TOKENS}). They are `Symbol.for` keys, so two copies
   * with the same contract hold the very same symbols; absent in identities of older cores.
   */
  readonly tokens?: Readonly<Record<string, symbol>>;
}

/** The identity of the copy of core running this code. */
export const coreIdentity: CoreIdentity = Object.freeze({
  version: CORE_VERSION,
  location: import.meta.url,
  instance: randomUUID(),
  tokens: TOKENS,
});

/**
 * Why a plugin defined with the copy of core `theirs` cannot share this copy's container,
 * or `undefined` when it can: the same copy, or another copy of the same version whose
 * DI tokens are the same symbols (a nested install of the same version works).
 */
export function coreMismatch(theirs: CoreIdentity): string | undefined {
  if (theirs.instance === coreIdentity.instance) return undefined;
  if (theirs.version !== coreIdentity.version) {
    return `it was defined with @kefu/core ${theirs.version}, the runtime is @kefu/core ${coreIdentity.version}`;
  }
  const ours: Readonly<Record<string, symbol>> = TOKENS;
  const theirTokens = theirs.tokens ?? {};
  const names = [...new Set([...Object.keys(ours), ...Object.keys(theirTokens)])];
  const differing = names.filter((name) => theirTokens[name] !== ours[name]);
  if (differing.length > 0) {
    return `its @kefu/core ${theirs.version} has other DI tokens than the runtime's (${differing.join(', ')})`;
  }
  return undefined;
}

// Every copy of core announces itself on a process-wide list, so the loader can name
// all the copies when it finds a plugin built against another one.
const CORE_COPIES_KEY = Symbol.for('kefu.core.copies');
const globalRegistry = globalThis as { [CORE_COPIES_KEY]?: CoreIdentity[] };
globalRegistry[CORE_COPIES_KEY] ??= [];
globalRegistry[CORE_COPIES_KEY].push(coreIdentity);

/** Every copy of @kefu/core evaluated in this process (copies that disagree are a packaging bug, see {@link coreMismatch}). */
export function loadedCoreCopies(): readonly CoreIdentity[] {
  return [...(globalRegistry[CORE_COPIES_KEY] ?? [])];
}

/** What a plugin contributes. */
export type PluginKind = 'provider' | 'sink' | 'checkpoint-store';

/** The services a plugin module binds, by kind. */
export interface PluginServices {
  provider: KefuProvider;
  sink: RecordSink;
  'checkpoint-store': CheckpointStore;
}

/** Passed to a plugin's module factory: who it is and what the runtime offers. */
export interface PluginContext {
  /** The instance id from the config (unique per kind). */
  instanceId: string;
  /** Directory of the config file, for resolving relative paths. */
  baseDir: string;
  /** The runtime's logger, bound to this plugin instance. */
  logger: KefuLogger;
  /** Creates HTTP clients with kefu's timeouts, retries and redaction. */
  httpClients: HttpClientFactory;
  /** The runtime's clock (always set by the runtime; optional so hand-built contexts in tests stay valid). */
  clock?: KefuClock;
}

/**
 * A plugin descriptor: what a provider or sink package exports (as `plugin` or default).
 * `module` returns an inversify `ContainerModule` that binds the plugin's service under
 * {@link TOKENS} (`Provider`, `Sink` or `CheckpointStore`).
 */
export interface KefuPlugin<Kind extends PluginKind = PluginKind, Schema extends z.ZodType = z.ZodType> {
  /** Marker checked by the loader (shape, not instanceof). */
  readonly kefuPlugin: 1;
  /** The package name, e.g. `@kefu/wechat-mp`. */
  readonly name: string;
  readonly kind: Kind;
  /** Validates the plugin's `config` block; its errors name the field. */
  readonly configSchema: Schema;
  /** Builds the container module for one configured instance. */
  module(config: z.output<Schema>, context: PluginContext): ContainerModule;
  /** The copy of core the plugin was defined with (set by {@link definePlugin}). */
  readonly core?: CoreIdentity;
}

/** Declares a plugin; use it as the package's `plugin` export. */
export function definePlugin<Kind extends PluginKind, Schema extends z.ZodType>(
  plugin: Omit<KefuPlugin<Kind, Schema>, 'kefuPlugin' | 'core'>,
): KefuPlugin<Kind, Schema> {
  return { kefuPlugin: 1, ...plugin, core: coreIdentity };
}

/** True when `value` has the shape of a {@link KefuPlugin} (works across copies of core). */
export function isKefuPlugin(value: unknown): value is KefuPlugin {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<KefuPlugin>;
  return (
    candidate.kefuPlugin === 1 &&
    typeof candidate.name === 'string' &&
    (candidate.kind === 'provider' || candidate.kind === 'sink' || candidate.kind === 'checkpoint-store') &&
    typeof candidate.module === 'function' &&
    typeof (candidate.configSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  );
}
