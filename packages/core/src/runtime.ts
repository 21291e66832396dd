import { dirname, resolve } from 'node:path';
import { Container, type ContainerModule } from 'inversify';
import type { CheckpointStore } from './checkpoint.js';
import { FileCheckpointStore, MemoryCheckpointStore } from './checkpoint-stores.js';
import { didYouMean } from './did-you-mean.js';
import { coreError, isKefuError, type KefuError } from './errors.js';
import type { HttpClient, HttpClientFactory } from './http-client.js';
import { dispatcherHttpClientFactory, undiciHttpClientFactory } from './http-client.js';
import {
  BUILT_IN_CHECKPOINT_STORES,
  type CheckpointsConfig,
  type ParseKefuConfigOptions,
  readKefuConfigFile,
  registerConfigSecrets,
  type SyncDefaults,
} from './kefu-config.js';
import { createJsonLogger, type KefuLogger, type LogLevel, type PinoLikeLogger, toKefuLogger } from './logger.js';
import {
  coreIdentity,
  coreMismatch,
  type KefuClock,
  loadedCoreCopies,
  type PluginContext,
  systemClock,
  TOKENS,
} from './plugin.js';
import {
  type BundledPlugin,
  type LazyBundledPlugin,
  type LoadedPluginInstance,
  loadPluginInstances,
  type PluginInstanceSpec,
  type PluginUse,
  type TypedPluginInstanceSpecs,
} from './plugin-loader.js';
import type { KefuProvider } from './provider.js';
import { isRecordSink, type RecordSink } from './sink.js';
import { runSync, type SyncOptions, type SyncRun } from './sync-pipeline.js';

/**
 * The kefu runtime: loads plugins, composes one inversify container, and hands out the
 * configured providers, sinks and checkpoint store. Embed it with {@link createKefu},
 * or build it from a config file with {@link loadKefu}.
 */

/**
 * Where checkpoints live: a built-in store (`memory`, `file` with `path`, `sink` naming a
 * sink that also stores checkpoints), a checkpoint-store plugin, or a store object.
 */
export type CheckpointsOption =
  | { use: 'memory' }
  | { use: 'file'; path: string }
  | { use: 'sink'; sink: string }
  | PluginInstanceSpec
  | { store: CheckpointStore };

/**
 * Options of {@link createKefu}. `Providers` and `Sinks` are the `use` of each entry,
 * inferred: an entry whose `use` is a plugin object has its `config` typed by the
 * plugin's schema, so a misspelled key is a compile error.
 */
export interface KefuOptions<
  Providers extends readonly PluginUse[] = readonly PluginUse[],
  Sinks extends readonly PluginUse[] = readonly PluginUse[],
> {
  /** Provider plugin instances. */
  providers?: TypedPluginInstanceSpecs<Providers>;
  /** Sink plugin instances. */
  sinks?: TypedPluginInstanceSpecs<Sinks>;
  /** Where checkpoints live (default: in memory). */
  checkpoints?: CheckpointsOption;
  /**
   * A logger — kefu's own, or a pino/Fastify logger (`app.log`), adapted to its
   * `(fields, message)` order — or the level of the default JSON logger on stderr (default `info`).
   */
  logger?: KefuLogger | PinoLikeLogger | { level: LogLevel };
  /** Directory plugins and relative paths are resolved from (default: the working directory). */
  baseDir?: string;
  /** Creates the HTTP clients plugins use (default: undici). */
  httpClients?: HttpClientFactory;
  /** The clock bound under TOKENS.Clock (default: the system clock). */
  clock?: KefuClock;
  /** Defaults for {@link Kefu.sync}. */
  sync?: SyncDefaults;
  /**
   * Plugins an application ships with: a `use: '<name>'` that is not installed where the
   * config is falls back to the bundled plugin of that name (the `kefu` CLI passes its
   * built-ins, as {@link LazyBundledPlugin}s imported only when a config names them).
   */
  bundledPlugins?: readonly BundledPlugin[];
  /**
   * inversify `ContainerModule`s of your own, loaded before the plugins. What they bind
   * under {@link TOKENS} replaces kefu's default: `Logger`, `HttpClientFactory`,
   * `HttpDispatcher` (an undici dispatcher for proxies or a custom CA), `Clock`,
   * `CheckpointStore` (instead of `checkpoints`), `TokenStore` (shared WeChat tokens).
   */
  modules?: readonly ContainerModule[];
  /**
   * Your application's container: kefu's container becomes its child, so bindings of
   * yours under {@link TOKENS} are seen (and override defaults like `modules` do) while
   * kefu's own bindings stay in the child and are released by `close()`.
   */
  container?: Container;
}

/**
 * Options of {@link Kefu.sync}: those of `runSync` with the runtime's providers, sinks,
 * checkpoint store, logger and config defaults filled in. `providers` picks provider
 * ids (default: all); every account of each is synced unless `targets` is given.
 */
export type KefuSyncOptions = Partial<SyncOptions> & { from: Date; to: Date; providers?: readonly string[] };

/** A composed runtime. */
export interface Kefu {
  /** The inversify container (TOKENS.Provider, TOKENS.Sink, TOKENS.CheckpointStore, …). */
  readonly container: Container;
  /** The runtime's checkpoint store. */
  readonly checkpointStore: CheckpointStore;
  /** The runtime's logger. */
  readonly logger: KefuLogger;
  /** Sync defaults from the options or config file. */
  readonly syncDefaults: SyncDefaults;
  /** Every configured provider, in config order. */
  providers(): readonly KefuProvider[];
  /** The provider with this instance id; KEFU_PROVIDER_NOT_FOUND lists the known ids. */
  provider(id: string): KefuProvider;
  /** Every configured sink, in config order. */
  sinks(): readonly RecordSink[];
  /** The sink with this instance id; KEFU_SINK_NOT_FOUND lists the known ids. */
  sink(id: string): RecordSink;
  /**
   * Syncs the configured providers into the configured sinks (see `runSync`): checkpoints
   * go to the runtime's store under the config's job. `close()` stops running syncs first.
   */
  sync(options: KefuSyncOptions): SyncRun;
  /** Stops running syncs, then closes sinks, providers, the checkpoint store and HTTP pools; idempotent. */
  close(): Promise<void>;
}

/** An HTTP client factory that remembers its clients so the runtime can close them last. */
class TrackingHttpClientFactory implements HttpClientFactory {
  readonly clients: HttpClient[] = [];
  constructor(private readonly inner: HttpClientFactory) {}
  create(options: Parameters<HttpClientFactory['create']>[0]): HttpClient {
    const client = this.inner.create(options);
    this.clients.push(client);
    return client;
  }
}

function resolveLogger(option: KefuOptions['logger']): KefuLogger {
  if (option && 'info' in option) return toKefuLogger(option);
  return createJsonLogger({ level: (option as { level?: LogLevel } | undefined)?.level ?? 'info' });
}

/** The core services plugins receive in their context. */
interface CoreServices {
  logger: KefuLogger;
  httpClients: TrackingHttpClientFactory;
  clock: KefuClock;
}

/** The service bound under `token` (here, by a user module, or in the parent), else `fallback()`. */
async function boundOr<T>(container: Container, token: symbol, fallback: () => T): Promise<T> {
  return container.isBound(token) ? container.getAsync<T>(token) : fallback();
}

/**
 * Resolves logger, HTTP client factory and clock: bindings from user modules or the
 * parent container win over the options, which win over the defaults. The runtime's
 * own (tracking) factory is bound in its container so plugins resolve the same one.
 */
async function resolveCoreServices(container: Container, options: KefuOptions): Promise<CoreServices> {
  const logger = toKefuLogger(
    await boundOr<KefuLogger | PinoLikeLogger>(container, TOKENS.Logger, () => resolveLogger(options.logger)),
  );
  const clock = await boundOr(container, TOKENS.Clock, () => options.clock ?? systemClock);
  const dispatched = container.isBound(TOKENS.HttpDispatcher)
    ? dispatcherHttpClientFactory(await container.getAsync(TOKENS.HttpDispatcher))
    : undefined;
  const factory = await boundOr<HttpClientFactory>(
    container,
    TOKENS.HttpClientFactory,
    () => dispatched ?? options.httpClients ?? undiciHttpClientFactory,
  );
  const httpClients = new TrackingHttpClientFactory(factory);
  if (container.isCurrentBound(TOKENS.HttpClientFactory)) await container.unbindAsync(TOKENS.HttpClientFactory);
  container.bind<HttpClientFactory>(TOKENS.HttpClientFactory).toConstantValue(httpClients);
  // Plugins inject TOKENS.Logger: they get the adapted logger, whatever was bound.
  if (container.isCurrentBound(TOKENS.Logger)) await container.unbindAsync(TOKENS.Logger);
  container.bind<KefuLogger>(TOKENS.Logger).toConstantValue(logger);
  if (!container.isCurrentBound(TOKENS.Clock)) container.bind<KefuClock>(TOKENS.Clock).toConstantValue(clock);
  return { logger, httpClients, clock };
}

/** Loads the user's modules into `container`, naming the one that failed. */
async function loadUserModules(container: Container, modules: readonly ContainerModule[]): Promise<void> {
  for (const [index, module] of modules.entries()) {
    try {
      await container.loadAsync(module);
    } catch (error) {
      throw coreError(
        'KEFU_CONFIG_INVALID',
        `modules[${index}] failed to load into the kefu container: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function isCheckpointStore(value: unknown): value is CheckpointStore {
  const candidate = value as Partial<CheckpointStore> | null;
  return typeof candidate?.load === 'function' && typeof candidate.save === 'function';
}

function isBuiltInCheckpoints(option: CheckpointsOption): option is Extract<CheckpointsOption, { use: string }> & {
  use: (typeof BUILT_IN_CHECKPOINT_STORES)[number];
} {
  return (
    'use' in option &&
    typeof option.use === 'string' &&
    (BUILT_IN_CHECKPOINT_STORES as readonly string[]).includes(option.use)
  );
}

/** Resolves the services bound under `token`, or none when nothing is bound. */
async function resolveAll<T>(container: Container, token: symbol): Promise<T[]> {
  return container.isBound(token) ? container.getAllAsync<T>(token) : [];
}

/** Orders services like their config entries and checks each instance bound itself under its id. */
function matchInstances<T extends { id: string }>(
  services: readonly T[],
  instances: readonly LoadedPluginInstance[],
  what: 'provider' | 'sink',
): T[] {
  const byId = new Map<string, T>();
  for (const service of services) {
    if (byId.has(service.id)) {
      throw coreError('KEFU_PLUGIN_INVALID', `two ${what}s are bound with the id "${service.id}"; ids must be unique`);
    }
    byId.set(service.id, service);
  }
  return instances.map((instance) => {
    const service = byId.get(instance.id);
    if (!service) {
      const bound = [...byId.keys()].join(', ') || 'none';
      throw coreError(
        'KEFU_PLUGIN_INVALID',
        `${instance.label}: plugin ${instance.plugin.name} did not bind a ${what} with id "${instance.id}" under TOKENS.${what === 'provider' ? 'Provider' : 'Sink'} (bound: ${bound}); its module must use context.instanceId as the id`,
      );
    }
    return service;
  });
}

class KefuRuntime implements Kefu {
  readonly #providers: readonly KefuProvider[];
  readonly #sinks: readonly RecordSink[];
  readonly #httpClients: TrackingHttpClientFactory;
  readonly #clock: KefuClock;
  readonly #runningSyncs = new Set<SyncRun>();
  #closing: Promise<void> | undefined;

  constructor(
    readonly container: Container,
    readonly checkpointStore: CheckpointStore,
    readonly logger: KefuLogger,
    readonly syncDefaults: SyncDefaults,
    providers: readonly KefuProvider[],
    sinks: readonly RecordSink[],
    httpClients: TrackingHttpClientFactory,
    clock: KefuClock,
  ) {
    this.#providers = providers;
    this.#sinks = sinks;
    this.#httpClients = httpClients;
    this.#clock = clock;
  }

  sync(options: KefuSyncOptions): SyncRun {
    this.#assertOpen();
    const { providers: providerIds, ...overrides } = options;
    const selected = providerIds ? providerIds.map((id) => this.provider(id)) : this.#providers;
    const targets =
      overrides.targets ??
      selected.flatMap((provider) => provider.accounts().map((account) => ({ provider, account })));
    const defaults = this.syncDefaults;
    const run = runSync({
      ...(defaults.job !== undefined ? { job: defaults.job } : {}),
      ...(defaults.batchSize !== undefined ? { batchSize: defaults.batchSize } : {}),
      ...(defaults.maxBatchWaitMs !== undefined ? { maxBatchWaitMs: defaults.maxBatchWaitMs } : {}),
      ...(defaults.prefetchPages !== undefined ? { prefetchPages: defaults.prefetchPages } : {}),
      ...(defaults.maxBufferedBytes !== undefined ? { maxBufferedBytes: defaults.maxBufferedBytes } : {}),
      ...(defaults.concurrency !== undefined ? { concurrency: defaults.concurrency } : {}),
      ...(defaults.onInvalidRecord !== undefined ? { onInvalidRecord: defaults.onInvalidRecord } : {}),
      ...(defaults.deadLetterPath !== undefined ? { deadLetterPath: defaults.deadLetterPath } : {}),
      logger: this.logger,
      now: () => this.#clock.now(),
      ...overrides,
      targets,
      sinks: overrides.sinks ?? [...this.#sinks],
      checkpoints: overrides.checkpoints ?? this.checkpointStore,
    });
    this.#runningSyncs.add(run);
    const forget = () => this.#runningSyncs.delete(run);
    run.done.then(forget, forget);
    return run;
  }

  providers(): readonly KefuProvider[] {
    this.#assertOpen();
    return this.#providers;
  }

  provider(id: string): KefuProvider {
    this.#assertOpen();
    const found = this.#providers.find((provider) => provider.id === id);
    if (found) return found;
    const known = this.#providers.map((p) => p.id);
    throw coreError(
      'KEFU_PROVIDER_NOT_FOUND',
      `no provider "${id}"${didYouMean(id, known)}; configured providers: ${known.join(', ') || 'none'}`,
      { details: { id, known: this.#providers.map((p) => p.id) } },
    );
  }

  sinks(): readonly RecordSink[] {
    this.#assertOpen();
    return this.#sinks;
  }

  sink(id: string): RecordSink {
    this.#assertOpen();
    const found = this.#sinks.find((sink) => sink.id === id);
    if (found) return found;
    const known = this.#sinks.map((s) => s.id);
    throw coreError(
      'KEFU_SINK_NOT_FOUND',
      `no sink "${id}"${didYouMean(id, known)}; configured sinks: ${known.join(', ') || 'none'}`,
      { details: { id, known: this.#sinks.map((s) => s.id) } },
    );
  }

  close(): Promise<void> {
    this.#closing ??= closeInOrder(
      [
        // A running sync still writes to the sinks: let it stop at a batch boundary first.
        ...[...this.#runningSyncs].map((run, index) => ({
          name: `sync ${index}`,
          close: async () => {
            run.stop('kefu runtime closing');
            await run.done;
          },
        })),
        // Children before parents: sinks flush what providers produced, the store is
        // used by both, HTTP pools are shared by all of them.
        ...[...this.#sinks].reverse().map((sink) => ({ name: `sink ${sink.id}`, close: () => sink.close() })),
        ...[...this.#providers]
          .reverse()
          .map((provider) => ({ name: `provider ${provider.id}`, close: () => provider.close() })),
        // A sink that is also the store (a TransactionalSink) closed above, as a sink.
        ...(isRecordSink(this.checkpointStore) && this.#sinks.includes(this.checkpointStore)
          ? []
          : [{ name: 'checkpoint store', close: async () => this.checkpointStore.close?.() }]),
        ...this.#httpClients.clients.map((client, index) => ({
          name: `http client ${index}`,
          close: () => client.close(),
        })),
        // Runs plugins' onDeactivation hooks, if they registered any.
        { name: 'container', close: () => this.container.unbindAllAsync() },
      ],
      this.logger,
    );
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #assertOpen(): void {
    if (this.#closing) {
      throw coreError('KEFU_RUNTIME_CLOSED', 'this kefu runtime was closed; create a new one');
    }
  }
}

/** Closes every step even when some fail; rethrows the first failure after logging all. */
async function closeInOrder(
  steps: readonly { name: string; close: () => Promise<unknown> }[],
  logger: KefuLogger,
): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step.close();
    } catch (error) {
      failures.push(error);
      logger.error(`closing ${step.name} failed`, { error });
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** Builds a plugin instance's container module, turning a throwing factory into a clear error. */
function buildModule(instance: LoadedPluginInstance, context: PluginContext): ContainerModule {
  try {
    // The config was validated by this plugin's own schema (validatePluginConfig); a list of plugins erases its type to unknown.
    return instance.plugin.module(instance.config, context);
  } catch (error) {
    if (isKefuError(error)) throw error;
    throw coreError(
      'KEFU_PLUGIN_INVALID',
      `${instance.label}: plugin ${instance.plugin.name} failed to build its container module: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Copies of this version share tokens and the secret registry, so they work together;
 * a copy that disagrees is only refused when a plugin uses it, so name it up front. */
function warnAboutDisagreeingCoreCopies(logger: KefuLogger): void {
  const disagreeing = loadedCoreCopies().filter((copy) => coreMismatch(copy) !== undefined);
  if (disagreeing.length > 0) {
    logger.warn(
      `another version of @kefu/core is loaded beside the runtime's ${coreIdentity.version}; plugins defined with it are refused. Install one version (\`npm ls @kefu/core\` shows where each comes from)`,
      { copies: disagreeing.map((copy) => `${copy.version} at ${copy.location}`) },
    );
  }
}

/** What {@link composeInstances} needs from {@link createKefu}. */
interface CompositionParts extends CoreServices {
  providerInstances: readonly LoadedPluginInstance[];
  sinkInstances: readonly LoadedPluginInstance[];
  storeInstances: readonly LoadedPluginInstance[];
  /** A user module (or the parent container) already binds TOKENS.CheckpointStore. */
  storeFromModules: boolean;
  checkpoints: CheckpointsOption;
  baseDir: string;
}

/**
 * Loads every instance's module into the container, binds the checkpoint store and resolves
 * providers, sinks and the store; on failure closes whatever was already opened.
 */
async function composeInstances(
  container: Container,
  parts: CompositionParts,
): Promise<{ providers: KefuProvider[]; sinks: RecordSink[]; store: CheckpointStore }> {
  const {
    providerInstances,
    sinkInstances,
    storeInstances,
    storeFromModules,
    checkpoints,
    baseDir,
    logger,
    httpClients,
    clock,
  } = parts;
  const resolved: { providers: KefuProvider[]; sinks: RecordSink[]; store?: CheckpointStore } = {
    providers: [],
    sinks: [],
  };
  try {
    for (const instance of [...providerInstances, ...sinkInstances, ...storeInstances]) {
      const context: PluginContext = {
        instanceId: instance.id,
        baseDir,
        logger: logger.child({ plugin: instance.plugin.name, instance: instance.id }),
        httpClients,
        clock,
      };
      await container.loadAsync(buildModule(instance, context));
    }
    if (!storeFromModules) bindBuiltInCheckpointStore(container, checkpoints, baseDir);

    resolved.providers = matchInstances(
      await resolveAll<KefuProvider>(container, TOKENS.Provider),
      providerInstances,
      'provider',
    );
    resolved.sinks = matchInstances(await resolveAll<RecordSink>(container, TOKENS.Sink), sinkInstances, 'sink');
    if (!container.isBound(TOKENS.CheckpointStore)) {
      throw coreError(
        'KEFU_PLUGIN_INVALID',
        `checkpoints (${storeInstances[0]?.plugin.name ?? 'plugin'}) did not bind a store under TOKENS.CheckpointStore`,
      );
    }
    const store = await container.getAsync<CheckpointStore>(TOKENS.CheckpointStore);
    if (!isCheckpointStore(store)) {
      throw coreError('KEFU_PLUGIN_INVALID', 'the service bound under TOKENS.CheckpointStore has no load/save methods');
    }
    return { providers: resolved.providers, sinks: resolved.sinks, store };
  } catch (error) {
    // Release whatever was already opened (sockets, files) before reporting.
    await closeInOrder(
      [
        ...resolved.sinks.map((sink) => ({ name: `sink ${sink.id}`, close: () => sink.close() })),
        ...resolved.providers.map((provider) => ({ name: `provider ${provider.id}`, close: () => provider.close() })),
        ...httpClients.clients.map((client, index) => ({ name: `http client ${index}`, close: () => client.close() })),
      ],
      logger,
    ).catch(() => {});
    throw error;
  }
}

/**
 * Composes a runtime from plugin instances: loads and validates each plugin, binds core
 * services (logger, HTTP client factory, clock, checkpoint store) and every instance's
 * module in one container, then resolves providers and sinks.
 *
 * @example
 * ```ts
 * const kefu = await createKefu({
 *   providers: [{ use: '@kefu/wechat-mp', config: { accounts: [{ appId: 'wx…', secret: process.env.WX_SECRET }] } }],
 *   sinks: [{ use: '@kefu/sink-file', config: { dir: './out' } }],
 *   checkpoints: { use: 'file', path: './.kefu/checkpoints.json' },
 * });
 * try {
 *   for (const provider of kefu.providers()) console.log(provider.id, provider.accounts());
 * } finally {
 *   await kefu.close();
 * }
 * ```
 */
export async function createKefu<
  const Providers extends readonly PluginUse[] = readonly PluginUse[],
  const Sinks extends readonly PluginUse[] = readonly PluginUse[],
>(options: KefuOptions<Providers, Sinks>): Promise<Kefu> {
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const checkpoints: CheckpointsOption = options.checkpoints ?? { use: 'memory' };
  const container = new Container(options.container ? { parent: options.container } : {});
  await loadUserModules(container, options.modules ?? []);
  const { logger, httpClients, clock } = await resolveCoreServices(container, options);
  warnAboutDisagreeingCoreCopies(logger);
  const storeFromModules = container.isBound(TOKENS.CheckpointStore);
  if (storeFromModules && options.checkpoints !== undefined) {
    throw coreError(
      'KEFU_CONFIG_INVALID',
      'checkpoints is set, and a module (or the parent container) also binds TOKENS.CheckpointStore: keep one of them',
    );
  }

  // Secrets written straight into the options must be scrubbed from logs too.
  // Only the config blocks: `use` may be a plugin object whose zod internals are not config.
  registerConfigSecrets(
    [...(options.providers ?? []), ...(options.sinks ?? []), checkpoints].map((spec) =>
      'config' in spec ? spec.config : undefined,
    ),
  );
  const bundled = options.bundledPlugins ?? [];
  const providerInstances = await loadPluginInstances('providers', options.providers ?? [], baseDir, bundled);
  const sinkInstances = await loadPluginInstances('sinks', options.sinks ?? [], baseDir, bundled);
  const storeInstances =
    'use' in checkpoints && !isBuiltInCheckpoints(checkpoints)
      ? await loadPluginInstances('checkpoints', [checkpoints], baseDir, bundled)
      : [];

  const resolved = await composeInstances(container, {
    providerInstances,
    sinkInstances,
    storeInstances,
    storeFromModules,
    checkpoints,
    baseDir,
    logger,
    httpClients,
    clock,
  });
  logger.debug('kefu runtime ready', {
    providers: resolved.providers.map((p) => p.id),
    sinks: resolved.sinks.map((s) => s.id),
  });
  const syncDefaults = { ...options.sync };
  // Relative to the config file, like every other path in it.
  if (syncDefaults.deadLetterPath !== undefined)
    syncDefaults.deadLetterPath = resolve(baseDir, syncDefaults.deadLetterPath);
  return new KefuRuntime(
    container,
    resolved.store,
    logger,
    syncDefaults,
    resolved.providers,
    resolved.sinks,
    httpClients,
    clock,
  );
}

/** Binds TOKENS.CheckpointStore for the built-in choices (and a store object). */
function bindBuiltInCheckpointStore(container: Container, checkpoints: CheckpointsOption, baseDir: string): void {
  if ('store' in checkpoints) {
    if (!isCheckpointStore(checkpoints.store)) {
      throw coreError('KEFU_CONFIG_INVALID', 'checkpoints.store must have load(key) and save(key, checkpoint) methods');
    }
    container.bind<CheckpointStore>(TOKENS.CheckpointStore).toConstantValue(checkpoints.store);
    return;
  }
  if (!isBuiltInCheckpoints(checkpoints)) return;
  switch (checkpoints.use) {
    case 'memory':
      container.bind<CheckpointStore>(TOKENS.CheckpointStore).toConstantValue(new MemoryCheckpointStore());
      return;
    case 'file': {
      const path = (checkpoints as { path?: unknown }).path;
      if (typeof path !== 'string' || path === '') {
        throw coreError('KEFU_CONFIG_INVALID', 'checkpoints.path: Required with `use: file` (the checkpoint file)');
      }
      container
        .bind<CheckpointStore>(TOKENS.CheckpointStore)
        .toConstantValue(new FileCheckpointStore({ path: resolve(baseDir, path) }));
      return;
    }
    case 'sink': {
      const sinkId = (checkpoints as { sink?: unknown }).sink;
      container
        .bind<CheckpointStore>(TOKENS.CheckpointStore)
        .toResolvedValue(
          (bound: RecordSink[] | undefined) => {
            const sinks = bound ?? [];
            const sink = sinks.find((candidate) => candidate.id === sinkId);
            if (!sink) {
              throw coreError(
                'KEFU_CONFIG_INVALID',
                `checkpoints.sink: no sink "${String(sinkId)}"${didYouMean(
                  String(sinkId),
                  sinks.map((s) => s.id),
                )}; configured sinks: ${sinks.map((s) => s.id).join(', ') || 'none'}`,
              );
            }
            if (!isCheckpointStore(sink)) {
              throw coreError(
                'KEFU_CONFIG_INVALID',
                `checkpoints.sink: sink "${sink.id}" does not store checkpoints (no load/save); use \`file\` or a sink that does, such as @kefu/sink-db`,
              );
            }
            return sink;
          },
          [{ isMultiple: true, serviceIdentifier: TOKENS.Sink, optional: true }],
        )
        .inSingletonScope();
      return;
    }
  }
}

/** Options of {@link loadKefu}: everything of {@link KefuOptions} but what the file says, plus env. */
export interface LoadKefuOptions
  extends Pick<KefuOptions, 'httpClients' | 'clock' | 'bundledPlugins' | 'modules' | 'container'> {
  /**
   * Overrides the file's logger; or a function given the file's `logger.level` (undefined
   * when the file sets none) that returns the logger, so a command-line flag, the file and
   * the command's default can be weighed in that order.
   */
  logger?: KefuLogger | PinoLikeLogger | ((fileLevel: LogLevel | undefined) => KefuLogger);
  /** Variables for `${NAME}` interpolation (default: process.env). */
  env?: ParseKefuConfigOptions['env'];
}

/**
 * Reads a config file (JSON, YAML, or a `.ts`/`.js` module's default export), resolves
 * plugins from its directory, and composes the runtime.
 *
 * @example
 * ```ts
 * const kefu = await loadKefu('./kefu.yaml');
 * ```
 */
export async function loadKefu(configPath: string, options: LoadKefuOptions = {}): Promise<Kefu> {
  const absolute = resolve(configPath);
  const config = await readKefuConfigFile(absolute, options.env ? { env: options.env } : {});
  return createKefu({
    providers: config.providers,
    sinks: config.sinks,
    ...(config.checkpoints ? { checkpoints: config.checkpoints as CheckpointsConfig & CheckpointsOption } : {}),
    logger:
      typeof options.logger === 'function'
        ? options.logger(config.logger?.level)
        : (options.logger ?? { level: config.logger?.level ?? 'info' }),
    baseDir: dirname(absolute),
    ...(options.httpClients ? { httpClients: options.httpClients } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.bundledPlugins ? { bundledPlugins: options.bundledPlugins } : {}),
    ...(options.modules ? { modules: options.modules } : {}),
    ...(options.container ? { container: options.container } : {}),
    ...(config.sync ? { sync: config.sync } : {}),
  });
}

/** True when `value` is an error kefu raised while composing a runtime (for CLIs). */
export function isRuntimeCompositionError(value: unknown): value is KefuError {
  return (
    isKefuError(value) &&
    [
      'KEFU_CONFIG_INVALID',
      'KEFU_PLUGIN_NOT_FOUND',
      'KEFU_PLUGIN_INVALID',
      'KEFU_PLUGIN_LOAD_FAILED',
      'KEFU_PLUGIN_DUPLICATE_CORE',
    ].includes(value.code)
  );
}
