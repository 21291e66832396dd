import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Checkpoint,
  type CheckpointStore,
  createJsonLogger,
  createKefu,
  definePlugin,
  FileCheckpointStore,
  type HttpClient,
  type HttpClientFactory,
  isKefuError,
  type JsonValue,
  type KefuClock,
  type KefuLogger,
  type KefuProvider,
  type KefuRecord,
  MemoryCheckpointStore,
  type PageSource,
  type PluginContext,
  type RecordBatch,
  type RecordQueryInput,
  RecordQuerySchema,
  type RecordSink,
  RecordStream,
  redactText,
  TOKENS,
} from '@kefu/core';
import { ContainerModule } from 'inversify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failure } from './support/kefu-failure.js';

/** What happened, in order, across fake plugins: proves close order and contexts. */
let journal: string[];
let contexts: Map<string, PluginContext>;
let workDir: string;

beforeEach(async () => {
  journal = [];
  contexts = new Map();
  workDir = await mkdtemp(join(tmpdir(), 'kefu-runtime-'));
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A provider serving `recordsPerAccount` text records per account, 3 per page. */
class FakeProvider implements KefuProvider {
  readonly platform = 'fake';
  readonly capabilities = new Set<never>();
  closed = 0;
  constructor(
    readonly id: string,
    private readonly config: FakeProviderConfig,
  ) {}
  accounts(): readonly string[] {
    return this.config.accounts.map((account) => account.id);
  }
  records(input: RecordQueryInput): RecordStream {
    const query = RecordQuerySchema.parse(input);
    const account = query.account ?? this.accounts()[0] ?? 'none';
    const total = this.config.recordsPerAccount;
    const record = (index: number): KefuRecord => ({
      id: `${account}-${index}`,
      provider: 'fake',
      account,
      customer: 'customer-1',
      direction: 'inbound',
      kind: 'text',
      text: `message ${index}`,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
      raw: { index },
    });
    const source: PageSource = {
      async *pages(position: JsonValue) {
        for (let next = (position as number | null) ?? 0; next < total; next += 3) {
          const end = Math.min(next + 3, total);
          yield { records: Array.from({ length: end - next }, (_, i) => record(next + i)), position: end };
        }
      },
    };
    return new RecordStream({ provider: 'fake', account }, source, query.resumeFrom);
  }
  async close(): Promise<void> {
    this.closed++;
    journal.push(`close provider ${this.id}`);
  }
}

/** A sink keeping batches in memory; with `storesCheckpoints` it is also a CheckpointStore. */
class MemorySink implements RecordSink {
  readonly guarantee = 'at-least-once' as const;
  readonly batches: RecordBatch[] = [];
  closed = 0;
  constructor(
    readonly id: string,
    readonly logger: KefuLogger,
    readonly clock: KefuClock,
  ) {}
  async write(batch: RecordBatch): Promise<void> {
    if (this.closed > 0) journal.push(`write after close ${this.id}`);
    this.batches.push(batch);
  }
  async close(): Promise<void> {
    this.closed++;
    journal.push(`close sink ${this.id}`);
  }
}

class CheckpointingSink extends MemorySink implements CheckpointStore {
  readonly stored = new Map<string, Checkpoint>();
  async load(key: string): Promise<Checkpoint | undefined> {
    return this.stored.get(key);
  }
  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    this.stored.set(key, checkpoint);
  }
}

const FakeProviderConfigSchema = z.object({
  accounts: z.array(z.object({ id: z.string(), secret: z.string() })).min(1),
  recordsPerAccount: z.number().int().min(0).default(7),
  /** Misbehave: bind the provider under another id than the instance id. */
  wrongId: z.boolean().default(false),
});
type FakeProviderConfig = z.output<typeof FakeProviderConfigSchema>;

const fakeProviderPlugin = definePlugin({
  name: '@test/fake-provider',
  kind: 'provider',
  configSchema: FakeProviderConfigSchema,
  module: (config, context) => {
    contexts.set(context.instanceId, context);
    return new ContainerModule(({ bind }) => {
      bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue(() => new FakeProvider(config.wrongId ? 'not-my-id' : context.instanceId, config))
        .inSingletonScope();
    });
  },
});

const fakeSinkPlugin = definePlugin({
  name: '@test/memory-sink',
  kind: 'sink',
  configSchema: z.object({ checkpoints: z.boolean().default(false) }),
  module: (config, context) =>
    new ContainerModule(({ bind }) => {
      // Injected from the container by token, as real plugins do.
      bind<RecordSink>(TOKENS.Sink)
        .toResolvedValue(
          (logger: KefuLogger, clock: KefuClock) =>
            config.checkpoints
              ? new CheckpointingSink(context.instanceId, logger, clock)
              : new MemorySink(context.instanceId, logger, clock),
          [TOKENS.Logger, TOKENS.Clock],
        )
        .inSingletonScope();
    }),
});

const fakeStorePlugin = definePlugin({
  name: '@test/checkpoint-store',
  kind: 'checkpoint-store',
  configSchema: z.object({}),
  module: () =>
    new ContainerModule(({ bind }) => {
      bind<CheckpointStore>(TOKENS.CheckpointStore).toConstantValue(new MemoryCheckpointStore());
    }),
});

const account = (id: string) => ({ id, secret: `secret-of-${id}` });
const quietLogger = createJsonLogger({ level: 'error', write: () => {} });

describe('createKefu composition', () => {
  it('binds core services and every plugin instance in one container', async () => {
    const clock: KefuClock = { now: () => 42 };
    const kefu = await createKefu({
      providers: [
        { use: fakeProviderPlugin, id: 'shop-east', config: { accounts: [account('wx-1'), account('wx-2')] } },
        { use: fakeProviderPlugin, id: 'shop-west', config: { accounts: [account('wx-3')] } },
      ],
      sinks: [{ use: fakeSinkPlugin, id: 'archive' }],
      logger: quietLogger,
      clock,
      baseDir: workDir,
    });
    try {
      expect(kefu.providers().map((p) => p.id)).toEqual(['shop-east', 'shop-west']);
      expect(kefu.provider('shop-west').accounts()).toEqual(['wx-3']);
      expect(kefu.sinks().map((s) => s.id)).toEqual(['archive']);
      expect(kefu.container.getAll(TOKENS.Provider)).toEqual([...kefu.providers()]);
      expect(kefu.container.get(TOKENS.Logger)).toBe(quietLogger);
      expect(kefu.container.get(TOKENS.Clock)).toBe(clock);
      expect(typeof kefu.container.get<HttpClientFactory>(TOKENS.HttpClientFactory).create).toBe('function');
      expect((kefu.sink('archive') as MemorySink).clock).toBe(clock);
      expect(kefu.checkpointStore).toBeInstanceOf(MemoryCheckpointStore);
      const context = contexts.get('shop-east');
      expect(context?.baseDir).toBe(workDir);
      expect(context?.clock).toBe(clock);
    } finally {
      await kefu.close();
    }
  });

  it('lists the known ids when a provider or sink id is unknown', async () => {
    const kefu = await createKefu({
      providers: [{ use: fakeProviderPlugin, config: { accounts: [account('wx-1')] } }],
      sinks: [{ use: fakeSinkPlugin }],
      logger: quietLogger,
    });
    try {
      expect(() => kefu.provider('nope')).toThrowError(/no provider "nope"; configured providers: fake-provider/);
      expect(() => kefu.sink('nope')).toThrowError(/no sink "nope"; configured sinks: memory-sink/);
      try {
        kefu.provider('nope');
      } catch (error) {
        expect(isKefuError(error) && error.code).toBe('KEFU_PROVIDER_NOT_FOUND');
      }
    } finally {
      await kefu.close();
    }
  });

  it('refuses a plugin that binds its service under another id than the instance id', async () => {
    const error = await failure(
      createKefu({
        providers: [{ use: fakeProviderPlugin, id: 'mine', config: { accounts: [account('wx-1')], wrongId: true } }],
        logger: quietLogger,
      }),
    );
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
    expect(error.message).toContain('did not bind a provider with id "mine"');
  });

  it('reports a bad plugin config with the instance and field before building anything', async () => {
    const error = await failure(
      createKefu({
        providers: [{ use: fakeProviderPlugin, id: 'wechat-mp', config: { accounts: [{ id: 'wx-1' }] } }],
        logger: quietLogger,
      }),
    );
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('providers[0] (wechat-mp) config.accounts.0.secret: Required');
    expect(contexts.size).toBe(0);
  });
});

describe('createKefu failures and secrets', () => {
  it('registers secrets written in plugin configs, so logs never show them', async () => {
    const kefu = await createKefu({
      providers: [{ use: fakeProviderPlugin, config: { accounts: [{ id: 'wx', secret: 'runtime-secret-999' }] } }],
      logger: quietLogger,
    });
    await kefu.close();
    expect(redactText('token runtime-secret-999 leaked')).toBe('token [redacted] leaked');
  });

  it('reports a module factory that throws, and releases what was already opened', async () => {
    const created: HttpClient[] = [];
    const opensClient = definePlugin({
      name: '@test/opens-client',
      kind: 'provider',
      configSchema: z.object({}),
      module: (_config, context) => {
        created.push(context.httpClients.create({ baseUrl: 'http://127.0.0.1:9', retry: false }));
        return new ContainerModule(({ bind }) => {
          bind<KefuProvider>(TOKENS.Provider).toConstantValue(
            new FakeProvider(context.instanceId, { accounts: [account('a')], recordsPerAccount: 0, wrongId: false }),
          );
        });
      },
    });
    const throwsPlugin = definePlugin({
      name: '@test/throws',
      kind: 'sink',
      configSchema: z.object({}),
      module: () => {
        throw new Error('cannot open the outbox');
      },
    });
    const error = await failure(
      createKefu({
        providers: [{ use: opensClient }],
        sinks: [{ use: throwsPlugin, id: 'outbox' }],
        logger: quietLogger,
      }),
    );
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
    expect(error.message).toContain('sinks[0] (outbox): plugin @test/throws failed to build its container module');
    expect(error.message).toContain('cannot open the outbox');
    const afterFailure = await failure(created[0]!.request({ method: 'GET', path: '/' }));
    expect(afterFailure.message).toContain('closed');
  });
});

describe('checkpoint store choice', () => {
  it('uses a file store resolved against baseDir when configured', async () => {
    const kefu = await createKefu({ checkpoints: { use: 'file', path: 'state/checkpoints.json' }, baseDir: workDir });
    try {
      expect(kefu.checkpointStore).toBeInstanceOf(FileCheckpointStore);
      const checkpoint: Checkpoint = { provider: 'fake', account: 'wx-1', position: 3, skip: 0 };
      await kefu.checkpointStore.save('job/p/wx-1', checkpoint);
      expect(await readFile(join(workDir, 'state/checkpoints.json'), 'utf8')).toContain('job/p/wx-1');
    } finally {
      await kefu.close();
    }
  });

  it('uses a sink that stores checkpoints when the config says use: sink', async () => {
    const kefu = await createKefu({
      sinks: [{ use: fakeSinkPlugin, id: 'db', config: { checkpoints: true } }],
      checkpoints: { use: 'sink', sink: 'db' },
      logger: quietLogger,
    });
    try {
      expect(kefu.checkpointStore).toBe(kefu.sink('db'));
    } finally {
      await kefu.close();
    }
  });

  it('refuses use: sink with a sink that cannot store checkpoints, or an unknown sink', async () => {
    const notAStore = await failure(
      createKefu({ sinks: [{ use: fakeSinkPlugin, id: 'files' }], checkpoints: { use: 'sink', sink: 'files' } }),
    );
    expect(notAStore.code).toBe('KEFU_CONFIG_INVALID');
    expect(notAStore.message).toContain('sink "files" does not store checkpoints');
    const unknown = await failure(
      createKefu({ sinks: [{ use: fakeSinkPlugin, id: 'files' }], checkpoints: { use: 'sink', sink: 'db' } }),
    );
    expect(unknown.message).toContain('no sink "db"; configured sinks: files');
  });

  it('uses a checkpoint-store plugin, or a store object given directly', async () => {
    const fromPlugin = await createKefu({ checkpoints: { use: fakeStorePlugin } });
    expect(fromPlugin.checkpointStore).toBeInstanceOf(MemoryCheckpointStore);
    await fromPlugin.close();
    const store = new MemoryCheckpointStore();
    const direct = await createKefu({ checkpoints: { store } });
    expect(direct.checkpointStore).toBe(store);
    await direct.close();
  });
});

describe('Kefu.close', () => {
  it('closes sinks before providers, each once, even when called twice', async () => {
    const kefu = await createKefu({
      providers: [
        { use: fakeProviderPlugin, id: 'p1', config: { accounts: [account('a')] } },
        { use: fakeProviderPlugin, id: 'p2', config: { accounts: [account('b')] } },
      ],
      sinks: [
        { use: fakeSinkPlugin, id: 's1' },
        { use: fakeSinkPlugin, id: 's2' },
      ],
      logger: quietLogger,
    });
    const sink = kefu.sink('s1') as MemorySink;
    await Promise.all([kefu.close(), kefu.close()]);
    await kefu.close();
    expect(journal).toEqual(['close sink s2', 'close sink s1', 'close provider p2', 'close provider p1']);
    expect(sink.closed).toBe(1);
    expect(() => kefu.providers()).toThrowError(/closed/);
  });

  it('closes the HTTP clients plugins created through the context', async () => {
    const created: HttpClient[] = [];
    const clientPlugin = definePlugin({
      name: '@test/http-user',
      kind: 'sink',
      configSchema: z.object({}),
      module: (_config, context) => {
        created.push(context.httpClients.create({ baseUrl: 'http://127.0.0.1:9', retry: false }));
        return new ContainerModule(({ bind }) => {
          bind<RecordSink>(TOKENS.Sink).toConstantValue(
            new MemorySink(context.instanceId, quietLogger, { now: Date.now }),
          );
        });
      },
    });
    const kefu = await createKefu({ sinks: [{ use: clientPlugin }], logger: quietLogger });
    await kefu.close();
    const error = await failure(created[0]!.request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('KEFU_HTTP_NETWORK');
    expect(error.message).toContain('closed');
  });
});

describe('Kefu.sync', () => {
  const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') };

  it('syncs every account of the configured providers into the sinks and resumes from the store', async () => {
    const kefu = await createKefu({
      providers: [{ use: fakeProviderPlugin, id: 'shop', config: { accounts: [account('wx-1'), account('wx-2')] } }],
      sinks: [{ use: fakeSinkPlugin, id: 'archive' }],
      logger: quietLogger,
      sync: { job: 'nightly', batchSize: 4 },
    });
    try {
      const summary = await kefu.sync(range).done;
      expect(summary.records).toBe(14);
      expect(summary.targets.map((t) => [t.target, t.status, t.records])).toEqual([
        ['shop/wx-1', 'done', 7],
        ['shop/wx-2', 'done', 7],
      ]);
      const sink = kefu.sink('archive') as MemorySink;
      expect(sink.batches.every((batch) => batch.records.length <= 4)).toBe(true);
      expect(sink.batches.flatMap((b) => b.records.map((r) => r.id)).sort()).toEqual(
        [
          ...Array.from({ length: 7 }, (_, i) => `wx-1-${i}`),
          ...Array.from({ length: 7 }, (_, i) => `wx-2-${i}`),
        ].sort(),
      );
      expect(await kefu.checkpointStore.load('nightly/shop/wx-1')).toMatchObject({ account: 'wx-1', position: 7 });

      const again = await kefu.sync(range).done;
      expect(again.records).toBe(0);
    } finally {
      await kefu.close();
    }
  });

  it('syncs only the providers named, and refuses an unknown one', async () => {
    const kefu = await createKefu({
      providers: [
        { use: fakeProviderPlugin, id: 'a', config: { accounts: [account('wx-a')] } },
        { use: fakeProviderPlugin, id: 'b', config: { accounts: [account('wx-b')] } },
      ],
      sinks: [{ use: fakeSinkPlugin }],
      logger: quietLogger,
    });
    try {
      const summary = await kefu.sync({ ...range, providers: ['b'] }).done;
      expect(summary.targets.map((t) => t.target)).toEqual(['b/wx-b']);
      expect(() => kefu.sync({ ...range, providers: ['c'] })).toThrowError(/no provider "c"/);
    } finally {
      await kefu.close();
    }
  });

  it('stops a running sync before closing the sinks', async () => {
    const kefu = await createKefu({
      providers: [{ use: fakeProviderPlugin, config: { accounts: [account('wx-1')], recordsPerAccount: 100_000 } }],
      sinks: [{ use: fakeSinkPlugin, id: 'slow' }],
      logger: quietLogger,
    });
    const run = kefu.sync({ ...range, batchSize: 10 });
    await new Promise<void>((resolve) => {
      const subscription = run.progress$.subscribe((event) => {
        if (event.type === 'batch-committed') {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    await kefu.close();
    const summary = await run.done;
    expect(summary.stopped).toBe(true);
    expect(summary.records).toBeLessThan(100_000);
    expect(journal).toContain('close sink slow');
    expect(journal).not.toContain('write after close slow');
  });
});
