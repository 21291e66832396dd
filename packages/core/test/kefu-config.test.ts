// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config files with ${ENV} placeholders
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createJsonLogger,
  definePlugin,
  FileCheckpointStore,
  interpolateEnv,
  kefuConfigJsonSchema,
  loadKefu,
  parseKefuConfig,
  readKefuConfigFile,
  redactText,
} from '@kefu/core';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failure } from './support/kefu-failure.js';

const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let root: string;
let appDir: string;

/** A provider package and a sink package as a user would install them next to the config. */
const PROVIDER_PACKAGE = `
import { z } from 'zod';
import { ContainerModule } from 'inversify';
const TOKENS = { Provider: Symbol.for('kefu.Provider') };
export const plugin = {
  kefuPlugin: 1,
  name: '@acme/kefu-provider',
  kind: 'provider',
  configSchema: z.object({ accounts: z.array(z.object({ appId: z.string(), secret: z.string() })).min(1) }),
  module: (config, context) => new ContainerModule(({ bind }) => {
    bind(TOKENS.Provider).toConstantValue({
      id: context.instanceId, platform: 'acme', capabilities: new Set(), config,
      accounts: () => config.accounts.map((a) => a.appId),
      records: () => { throw new Error('not needed here'); },
      close: async () => {},
    });
  }),
};
`;
const SINK_PACKAGE = `
import { z } from 'zod';
import { ContainerModule } from 'inversify';
export default {
  kefuPlugin: 1,
  name: '@acme/kefu-sink',
  kind: 'sink',
  configSchema: z.object({ url: z.string().url(), token: z.string() }),
  module: (config, context) => new ContainerModule(({ bind }) => {
    bind(Symbol.for('kefu.Sink')).toConstantValue({
      id: context.instanceId, guarantee: 'at-least-once', config, write: async () => {}, close: async () => {},
    });
  }),
};
`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kefu-config-'));
  appDir = join(root, 'app');
  await mkdir(join(appDir, 'node_modules', '@acme', 'kefu-provider'), { recursive: true });
  await mkdir(join(appDir, 'node_modules', '@acme', 'kefu-sink'), { recursive: true });
  for (const dependency of ['zod', 'inversify']) {
    await symlink(await realpath(join(coreDir, 'node_modules', dependency)), join(appDir, 'node_modules', dependency));
  }
  for (const [name, source] of [
    ['kefu-provider', PROVIDER_PACKAGE],
    ['kefu-sink', SINK_PACKAGE],
  ] as const) {
    const dir = join(appDir, 'node_modules', '@acme', name);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: `@acme/${name}`, type: 'module', main: 'index.js' }),
    );
    await writeFile(join(dir, 'index.js'), source);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const quietLogger = createJsonLogger({ level: 'error', write: () => {} });

describe('loadKefu', () => {
  it('loads a YAML config, interpolating env variables and resolving plugins from its directory', async () => {
    const path = join(appDir, 'kefu.yaml');
    await writeFile(
      path,
      [
        'providers:',
        '  - use: "@acme/kefu-provider"',
        '    id: shop',
        '    config:',
        '      accounts:',
        '        - appId: wx-yaml',
        '          secret: ${ACME_SECRET}',
        'sinks:',
        '  - use: "@acme/kefu-sink"',
        '    config:',
        '      url: ${HOOK_URL:-http://127.0.0.1:8080/hook}',
        '      token: $${NOT_INTERPOLATED}',
        'checkpoints:',
        '  use: file',
        '  path: .kefu/checkpoints.json',
        'sync:',
        '  job: hourly',
      ].join('\n'),
    );
    const kefu = await loadKefu(path, { env: { ACME_SECRET: 'yaml-secret-value' }, logger: quietLogger });
    try {
      const provider = kefu.provider('shop') as unknown as { config: { accounts: { secret: string }[] } };
      expect(provider.config.accounts[0]?.secret).toBe('yaml-secret-value');
      const sink = kefu.sink('kefu-sink') as unknown as { config: { url: string; token: string } };
      expect(sink.config).toEqual({ url: 'http://127.0.0.1:8080/hook', token: '${NOT_INTERPOLATED}' });
      expect(kefu.checkpointStore).toBeInstanceOf(FileCheckpointStore);
      expect(kefu.syncDefaults.job).toBe('hourly');
      // Secrets from the config are registered: logs never show them.
      expect(redactText('secret is yaml-secret-value')).not.toContain('yaml-secret-value');
    } finally {
      await kefu.close();
    }
  });

  it('loads a JSON config', async () => {
    const path = join(appDir, 'kefu.json');
    await writeFile(
      path,
      JSON.stringify({
        providers: [
          { use: '@acme/kefu-provider', config: { accounts: [{ appId: 'wx-json', secret: '${ACME_SECRET}' }] } },
        ],
      }),
    );
    const kefu = await loadKefu(path, { env: { ACME_SECRET: 'json-secret' }, logger: quietLogger });
    try {
      expect(kefu.providers().map((p) => [p.id, p.accounts()])).toEqual([['kefu-provider', ['wx-json']]]);
    } finally {
      await kefu.close();
    }
  });

  it("loads a TypeScript config module's default export", async () => {
    const path = join(appDir, 'kefu.config.ts');
    await writeFile(
      path,
      `const config: { providers: unknown[] } = { providers: [{ use: '@acme/kefu-provider', id: 'from-ts', config: { accounts: [{ appId: 'wx-ts', secret: 'ts-secret' }] } }] };\nexport default config;\n`,
    );
    const kefu = await loadKefu(path, { logger: quietLogger });
    try {
      expect(kefu.provider('from-ts').accounts()).toEqual(['wx-ts']);
    } finally {
      await kefu.close();
    }
  });

  it('names every missing environment variable and where it is used', async () => {
    const path = join(appDir, 'missing-env.yaml');
    await writeFile(
      path,
      [
        'providers:',
        '  - use: "@acme/kefu-provider"',
        '    config:',
        '      accounts:',
        '        - appId: ${APP_ID}',
        '          secret: ${APP_SECRET}',
      ].join('\n'),
    );
    const error = await failure(loadKefu(path, { env: { APP_ID: 'wx1' }, logger: quietLogger }));
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('APP_SECRET (used at providers[0].config.accounts[0].secret)');
    expect(error.message).not.toContain('APP_ID (');
  });

  it('reports a bad plugin config in a file with the instance and field', async () => {
    const path = join(appDir, 'bad-sink.json');
    await writeFile(
      path,
      JSON.stringify({ sinks: [{ use: '@acme/kefu-sink', id: 'hook', config: { url: 'not a url' } }] }),
    );
    const error = await failure(loadKefu(path, { logger: quietLogger }));
    expect(error.message).toContain('sinks[0] (hook) config.url:');
    expect(error.message).toContain('sinks[0] (hook) config.token: Required');
  });

  it('says what to install when a plugin package is missing next to the config', async () => {
    const path = join(appDir, 'missing-plugin.json');
    await writeFile(path, JSON.stringify({ providers: [{ use: '@kefu/not-installed-anywhere', config: {} }] }));
    const error = await failure(loadKefu(path, { logger: quietLogger }));
    expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
    expect(error.message).toContain('providers[0]: ');
    expect(error.message).toContain('pnpm add @kefu/not-installed-anywhere');
  });
});

describe('readKefuConfigFile errors', () => {
  it('reports invalid YAML and JSON with the file name', async () => {
    const yamlPath = join(appDir, 'broken.yaml');
    await writeFile(yamlPath, 'providers: [\n  - use: x\n');
    const yamlError = await failure(readKefuConfigFile(yamlPath));
    expect(yamlError.code).toBe('KEFU_CONFIG_INVALID');
    expect(yamlError.message).toContain('broken.yaml: not valid YAML');
    const jsonPath = join(appDir, 'broken.json');
    await writeFile(jsonPath, '{"providers": ');
    expect((await failure(readKefuConfigFile(jsonPath))).message).toContain('not valid JSON');
  });

  it('reports a missing file and an unsupported extension', async () => {
    expect((await failure(readKefuConfigFile(join(appDir, 'absent.yaml')))).message).toContain('cannot read');
    expect((await failure(readKefuConfigFile(join(appDir, 'kefu.toml')))).message).toContain(
      'unsupported config file type',
    );
  });
});

describe('parseKefuConfig', () => {
  it('applies defaults to an empty config', () => {
    expect(parseKefuConfig({})).toEqual({ providers: [], sinks: [] });
  });

  it('names unknown keys and bad fields', () => {
    expect(() => parseKefuConfig({ provider: [] }, { source: 'kefu.yaml' })).toThrowError(/kefu\.yaml: .*provider/);
    expect(() => parseKefuConfig({ providers: [{ id: 'x' }] })).toThrowError(/providers\[0\]\.use: Required/);
    expect(() => parseKefuConfig({ checkpoints: { use: 'file' } })).toThrowError(
      /checkpoints\.path: Required with `use: file`/,
    );
    expect(() => parseKefuConfig({ checkpoints: { use: 'sink' } })).toThrowError(/checkpoints\.sink: Required/);
    expect(() => parseKefuConfig({ sinks: [{ use: 'x', id: 'has space' }] })).toThrowError(/sinks\[0\]\.id/);
  });
});

describe('interpolateEnv', () => {
  it('substitutes variables inside longer strings, with defaults and escapes', () => {
    const env = { HOST: 'db.local', EMPTY: '' };
    expect(
      interpolateEnv({ url: 'postgres://${HOST}:5432', a: '${EMPTY:-fallback}', b: '$${HOST}', n: 3 }, env),
    ).toEqual({ url: 'postgres://db.local:5432', a: 'fallback', b: '${HOST}', n: 3 });
  });
});

describe('kefuConfigJsonSchema', () => {
  it('describes the file for editors', () => {
    const schema = kefuConfigJsonSchema() as { properties: Record<string, unknown>; additionalProperties?: unknown };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['providers', 'sinks', 'checkpoints', 'logger', 'sync']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it("includes each known plugin's own config schema", () => {
    const plugin = definePlugin({
      name: '@kefu/wechat-mp',
      kind: 'provider',
      configSchema: z.object({ appId: z.string(), secret: z.string() }),
      module: () => new ContainerModule(() => {}),
    });
    const text = JSON.stringify(kefuConfigJsonSchema([plugin]));
    expect(text).toContain('"const":"@kefu/wechat-mp"');
    expect(text).toContain('"appId"');
  });

  it('given a known plugin, when an entry misspells a key of its config, then the JSON Schema rejects it (editors flag the typo)', () => {
    const plugin = definePlugin({
      name: '@kefu/wechat-mp',
      kind: 'provider',
      configSchema: z.strictObject({ accounts: z.array(z.string()) }),
      module: () => new ContainerModule(() => {}),
    });
    // The JSON Schema read back as a validator, as an editor would use it.
    const editor = z.fromJSONSchema(kefuConfigJsonSchema([plugin]) as Parameters<typeof z.fromJSONSchema>[0]);
    const entry = (use: string, config: unknown) => ({ providers: [{ use, config }] });
    expect(editor.safeParse(entry('@kefu/wechat-mp', { accounts: ['wx1'] })).success).toBe(true);
    expect(editor.safeParse(entry('@kefu/wechat-mp', { acounts: ['wx1'] })).success).toBe(false);
    // Other plugins, known only at run time, are still accepted with any config.
    expect(editor.safeParse(entry('./my-provider.js', { anything: true })).success).toBe(true);
  });
});
