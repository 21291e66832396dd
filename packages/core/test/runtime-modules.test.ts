import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CheckpointStore,
  createJsonLogger,
  createKefu,
  definePlugin,
  type HttpClient,
  type KefuClock,
  type KefuLogger,
  type KefuProvider,
  MemoryCheckpointStore,
  type PluginContext,
  RecordStream,
  TOKENS,
  type TokenStore,
} from '@kefu/core';
import { Container, ContainerModule } from 'inversify';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failure } from './support/kefu-failure.js';

/** A provider that shows what the runtime handed it: context, token store, an HTTP client. */
class ProbeProvider implements KefuProvider {
  readonly platform = 'probe';
  readonly capabilities = new Set<never>();
  readonly http: HttpClient;
  constructor(
    readonly id: string,
    readonly context: PluginContext,
    readonly tokenStore: TokenStore | undefined,
    baseUrl: string,
  ) {
    this.http = context.httpClients.create({ baseUrl, retry: false });
  }
  accounts(): readonly string[] {
    return ['probe-account'];
  }
  records(): RecordStream {
    return new RecordStream({ provider: 'probe', account: 'probe-account' }, { async *pages() {} }, undefined);
  }
  async close(): Promise<void> {}
}

const probePlugin = definePlugin({
  name: '@test/probe',
  kind: 'provider',
  configSchema: z.strictObject({ baseUrl: z.string() }),
  module: (config, context) =>
    new ContainerModule(({ bind }) => {
      bind<KefuProvider>(TOKENS.Provider)
        .toDynamicValue(
          (resolution) =>
            new ProbeProvider(
              context.instanceId,
              context,
              resolution.get<TokenStore>(TOKENS.TokenStore, { optional: true }),
              config.baseUrl,
            ),
        )
        .inSingletonScope();
    }),
});

/** An undici Agent that counts what it dispatches (a stand-in for a ProxyAgent). */
class CountingAgent extends Agent {
  dispatched: string[] = [];
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push(`${String(options.origin)}${options.path}`);
    return super.dispatch(options, handler);
  }
}

const tokenStore: TokenStore = {
  get: async () => undefined,
  set: async () => {},
  invalidate: async () => false,
};

let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((_request, response) => response.end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const probe = () => [{ use: probePlugin, id: 'probe', config: { baseUrl } }];

describe('createKefu({ modules })', () => {
  it('given a module binding logger and clock, when plugins are built, then their context has those, not the options', async () => {
    const lines: string[] = [];
    const logger: KefuLogger = createJsonLogger({ level: 'debug', write: (line) => lines.push(line) });
    const clock: KefuClock = { now: () => 7 };
    const kefu = await createKefu({
      providers: probe(),
      logger: { level: 'error' },
      modules: [
        new ContainerModule(({ bind }) => {
          bind<KefuLogger>(TOKENS.Logger).toConstantValue(logger);
          bind<KefuClock>(TOKENS.Clock).toConstantValue(clock);
        }),
      ],
    });
    try {
      const provider = kefu.provider('probe') as ProbeProvider;
      expect(kefu.logger).toBe(logger);
      expect(provider.context.clock).toBe(clock);
      provider.context.logger.info('from the plugin');
      expect(lines.some((line) => line.includes('from the plugin') && line.includes('"instance":"probe"'))).toBe(true);
    } finally {
      await kefu.close();
    }
  });

  it('given a module binding an HTTP dispatcher, when a plugin sends a request, then it goes through that dispatcher, which close() leaves open', async () => {
    const agent = new CountingAgent();
    const kefu = await createKefu({
      providers: probe(),
      logger: { level: 'error' },
      modules: [new ContainerModule(({ bind }) => void bind<Dispatcher>(TOKENS.HttpDispatcher).toConstantValue(agent))],
    });
    const response = await (kefu.provider('probe') as ProbeProvider).http.request({ method: 'GET', path: '/ping' });
    await kefu.close();
    expect(response.text()).toBe('{"ok":true}');
    expect(agent.dispatched).toEqual([`${baseUrl}/ping`]);
    expect(agent.closed).toBe(false);
    await agent.close();
  });

  it('given a module binding a token store, when the plugin resolves TOKENS.TokenStore, then it gets that store', async () => {
    const kefu = await createKefu({
      providers: probe(),
      logger: { level: 'error' },
      modules: [
        new ContainerModule(({ bind }) => void bind<TokenStore>(TOKENS.TokenStore).toConstantValue(tokenStore)),
      ],
    });
    try {
      expect((kefu.provider('probe') as ProbeProvider).tokenStore).toBe(tokenStore);
    } finally {
      await kefu.close();
    }
  });

  it('given a module binding a checkpoint store, then it is the runtime store; with `checkpoints` set too, KEFU_CONFIG_INVALID', async () => {
    const store: CheckpointStore = new MemoryCheckpointStore();
    const module = new ContainerModule(
      ({ bind }) => void bind<CheckpointStore>(TOKENS.CheckpointStore).toConstantValue(store),
    );
    const kefu = await createKefu({ logger: { level: 'error' }, modules: [module] });
    expect(kefu.checkpointStore).toBe(store);
    await kefu.close();
    const error = await failure(
      createKefu({ logger: { level: 'error' }, modules: [module], checkpoints: { use: 'memory' } }),
    );
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('keep one of them');
  });

  it('given a module that throws while loading, then KEFU_CONFIG_INVALID names which module', async () => {
    const broken = new ContainerModule(() => {
      throw new Error('no Redis URL');
    });
    const error = await failure(
      createKefu({ logger: { level: 'error' }, modules: [new ContainerModule(() => {}), broken] }),
    );
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toMatch(/^modules\[1\] failed to load.*no Redis URL/);
  });
});

describe('createKefu({ container })', () => {
  it("given the app's container binding a token store, when kefu runs as its child and closes, then plugins see the store and the app's bindings survive", async () => {
    const app = new Container();
    app.bind<TokenStore>(TOKENS.TokenStore).toConstantValue(tokenStore);
    app.bind<string>('app.name').toConstantValue('shop');
    const kefu = await createKefu({ providers: probe(), logger: { level: 'error' }, container: app });
    expect((kefu.provider('probe') as ProbeProvider).tokenStore).toBe(tokenStore);
    expect(kefu.container.get<string>('app.name')).toBe('shop');
    expect(app.isBound(TOKENS.Provider)).toBe(false);
    await kefu.close();
    expect(app.get(TOKENS.TokenStore)).toBe(tokenStore);
  });
});
