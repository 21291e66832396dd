import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CORE_VERSION,
  type CoreIdentity,
  coreIdentity,
  coreMismatch,
  createJsonLogger,
  createKefu,
  defaultInstanceId,
  definePlugin,
  importPlugin,
  type KefuPlugin,
  loadPluginInstances,
  packageNameOf,
  redactText,
  TOKENS,
} from '@kefu/core';
import { ContainerModule } from 'inversify';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { failure } from './support/kefu-failure.js';

const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A user's project on disk: `app/` holds the config and its own node_modules with plugin
 * packages; zod and inversify are linked to the real copies, as a package manager would.
 */
let appDir: string;
let otherDir: string;

async function writePackage(name: string, files: Record<string, string>, manifest: Record<string, unknown>) {
  const dir = join(appDir, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
}

const FAKE_PROVIDER_SOURCE = `
import { z } from 'zod';
import { ContainerModule } from 'inversify';
export const plugin = {
  kefuPlugin: 1,
  name: '@kefu/fake-wechat',
  kind: 'provider',
  configSchema: z.object({
    accounts: z.array(z.object({ appId: z.string(), secret: z.string() })).min(1),
    pageSize: z.number().int().max(100).default(50),
  }),
  module: () => new ContainerModule(() => {}),
};
`;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'kefu-loader-'));
  appDir = join(root, 'app');
  otherDir = join(root, 'elsewhere');
  await mkdir(join(appDir, 'node_modules'), { recursive: true });
  await mkdir(otherDir, { recursive: true });
  for (const dependency of ['zod', 'inversify']) {
    await symlink(await realpath(join(coreDir, 'node_modules', dependency)), join(appDir, 'node_modules', dependency));
  }
  // ESM-only: only an `import` condition, so CommonJS resolution cannot find it.
  await writePackage(
    '@kefu/fake-wechat',
    { 'index.mjs': FAKE_PROVIDER_SOURCE },
    {
      exports: { '.': { import: './index.mjs' } },
    },
  );
  await writePackage(
    'kefu-default-export',
    {
      'index.js': `export default { kefuPlugin: 1, name: 'kefu-default-export', kind: 'sink',
        configSchema: { safeParse: (value) => ({ success: true, data: value }) }, module: () => undefined };`,
    },
    { main: 'index.js' },
  );
  await writePackage(
    'kefu-not-a-plugin',
    { 'index.js': 'export const version = 1; export function helper() {}' },
    {
      main: 'index.js',
    },
  );
  await writePackage(
    'kefu-broken',
    { 'index.js': "import 'a-dependency-nobody-installed';\nexport const plugin = {};" },
    {
      main: 'index.js',
    },
  );
  await writeFile(
    join(appDir, 'local-plugin.mjs'),
    `export const plugin = { kefuPlugin: 1, name: 'local', kind: 'sink',
      configSchema: { safeParse: (value) => ({ success: true, data: value }) }, module: () => undefined };`,
  );
  return async () => rm(root, { recursive: true, force: true });
});

describe('importPlugin', () => {
  it("resolves an ESM-only package from the config's directory", async () => {
    const plugin = await importPlugin('@kefu/fake-wechat', appDir);
    expect(plugin.name).toBe('@kefu/fake-wechat');
    expect(plugin.kind).toBe('provider');
  });

  it('does not find a package installed only next to another directory', async () => {
    const error = await failure(importPlugin('@kefu/fake-wechat', otherDir));
    expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
  });

  it('accepts a plugin exported as default', async () => {
    expect((await importPlugin('kefu-default-export', appDir)).name).toBe('kefu-default-export');
  });

  it('loads a plugin file by a path relative to the config', async () => {
    expect((await importPlugin('./local-plugin.mjs', appDir)).name).toBe('local');
  });

  it('says exactly what to install when the package is missing', async () => {
    const error = await failure(importPlugin('@kefu/xyz/sub', appDir));
    expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
    expect(error.message).toContain('pnpm add @kefu/xyz');
    expect(error.fix).toBeTruthy();
  });

  it('reports a missing plugin file with its absolute path', async () => {
    const error = await failure(importPlugin('./nope.mjs', appDir));
    expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
    expect(error.message).toContain(join(appDir, 'nope.mjs'));
  });

  it('refuses a module that does not export a plugin, listing what it exports', async () => {
    const error = await failure(importPlugin('kefu-not-a-plugin', appDir));
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
    expect(error.message).toContain('helper, version');
  });

  it('reports a package that is installed but fails to import', async () => {
    const error = await failure(importPlugin('kefu-broken', appDir));
    expect(error.code).toBe('KEFU_PLUGIN_LOAD_FAILED');
    expect(error.message).toContain('a-dependency-nobody-installed');
  });
});

describe('loadPluginInstances', () => {
  it('validates config with the plugin schema, applies defaults and derives the id', async () => {
    const [instance] = await loadPluginInstances(
      'providers',
      [{ use: '@kefu/fake-wechat', config: { accounts: [{ appId: 'wx1', secret: 's3cr3t-value' }] } }],
      appDir,
    );
    expect(instance?.id).toBe('fake-wechat');
    expect(instance?.config).toEqual({ accounts: [{ appId: 'wx1', secret: 's3cr3t-value' }], pageSize: 50 });
  });

  it('names the instance and the field path of a bad config in one actionable message', async () => {
    const error = await failure(
      loadPluginInstances(
        'providers',
        [{ use: '@kefu/fake-wechat', id: 'wechat-mp', config: { accounts: [{ appId: 'wx1' }], pageSize: 500 } }],
        appDir,
      ),
    );
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('providers[0] (wechat-mp) config.accounts.0.secret: Required');
    expect(error.message).toContain('providers[0] (wechat-mp) config.pageSize:');
  });

  it('prefixes loader errors with the config position', async () => {
    const error = await failure(
      loadPluginInstances('sinks', [{ use: 'kefu-default-export' }, { use: '@kefu/nothing' }], appDir),
    );
    expect(error.code).toBe('KEFU_PLUGIN_NOT_FOUND');
    expect(error.message.startsWith('sinks[1]: ')).toBe(true);
  });

  it('refuses a plugin listed in the wrong section', async () => {
    const error = await failure(loadPluginInstances('sinks', [{ use: '@kefu/fake-wechat', config: {} }], appDir));
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
    expect(error.message).toContain('is a provider plugin, but sinks needs a sink plugin');
  });

  it('imports a lazy bundled plugin only when a config names it, and refuses one that loads another name', async () => {
    const sinkPlugin = definePlugin({
      name: '@kefu/bundled-sink',
      kind: 'sink',
      configSchema: z.strictObject({}),
      module: () => new ContainerModule(() => {}),
    });
    const loads: string[] = [];
    const lazy = (name: string, plugin: KefuPlugin) => ({
      name,
      load: async () => {
        loads.push(name);
        return plugin;
      },
    });
    const bundled = [lazy('@kefu/bundled-sink', sinkPlugin), lazy('@kefu/bundled-unused', sinkPlugin)];
    const [instance] = await loadPluginInstances('sinks', [{ use: '@kefu/bundled-sink' }], appDir, bundled);
    expect(instance?.plugin).toBe(sinkPlugin);
    expect(loads).toEqual(['@kefu/bundled-sink']);
    const error = await failure(loadPluginInstances('sinks', [{ use: '@kefu/bundled-unused' }], appDir, bundled));
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
    expect(error.message).toContain('the bundled plugin @kefu/bundled-unused loaded a plugin named @kefu/bundled-sink');
  });

  it('refuses two instances with the same id', async () => {
    const error = await failure(
      loadPluginInstances('sinks', [{ use: 'kefu-default-export' }, { use: 'kefu-default-export' }], appDir),
    );
    expect(error.code).toBe('KEFU_CONFIG_INVALID');
    expect(error.message).toContain('id "kefu-default-export" is already used by sinks[0]');
  });

  it('refuses an object that is not a plugin', async () => {
    const error = await failure(
      loadPluginInstances('providers', [{ use: { name: 'x' } as unknown as KefuPlugin }], appDir),
    );
    expect(error.code).toBe('KEFU_PLUGIN_INVALID');
  });
});

describe('copies of @kefu/core', () => {
  /** A sink plugin defined with the copy of core `copy`, binding a sink that keeps what it is given. */
  function recordingSinkPlugin(copy: typeof import('../src/plugin.js'), name: string, written: unknown[]) {
    return copy.definePlugin({
      name,
      kind: 'sink',
      configSchema: z.object({}),
      module: (_config, context) =>
        new ContainerModule((options) => {
          options.bind(copy.TOKENS.Sink).toConstantValue({
            id: context.instanceId,
            write: async (batch: { records: unknown[] }) => {
              written.push(...batch.records);
            },
            close: async () => {},
          });
        }),
    });
  }

  /** A plugin object carrying another copy's identity, as a plugin defined with that copy does. */
  function pluginDefinedWith(core: CoreIdentity): KefuPlugin {
    return {
      ...definePlugin({
        name: 'acme-sink',
        kind: 'sink',
        configSchema: z.object({}),
        module: () => new ContainerModule(() => {}),
      }),
      core,
    };
  }

  it('accepts a plugin defined with this copy of core', async () => {
    const plugin = definePlugin({
      name: 'same-core',
      kind: 'sink',
      configSchema: z.object({}),
      module: () => new ContainerModule(() => {}),
    });
    expect(plugin.core).toBe(coreIdentity);
    await expect(loadPluginInstances('sinks', [{ use: plugin }], appDir)).resolves.toHaveLength(1);
  });

  it('runs a plugin defined with a second copy of the same version: its tokens are the same symbols', async () => {
    // Given a second evaluation of core's plugin module, as a nested install of the same
    // version produces (the query string makes the module loader evaluate the file again)
    const secondCopyUrl = `${new URL('../src/plugin.ts', import.meta.url).href}?second-copy`;
    const secondCopy = (await import(/* @vite-ignore */ secondCopyUrl)) as typeof import('../src/plugin.js');
    const written: unknown[] = [];
    const plugin = recordingSinkPlugin(secondCopy, 'second-copy-sink', written);
    expect(plugin.core?.instance).not.toBe(coreIdentity.instance);
    expect(plugin.core?.version).toBe(CORE_VERSION);
    expect(coreMismatch(plugin.core as CoreIdentity)).toBeUndefined();

    // When the runtime of the first copy composes it, no warning is logged and its sink is the one resolved
    const lines: string[] = [];
    const kefu = await createKefu({
      sinks: [{ use: plugin }],
      logger: createJsonLogger({ level: 'warn', write: (line) => lines.push(line) }),
    });
    try {
      const [sink] = kefu.sinks();
      expect(sink?.id).toBe('second-copy-sink');
      await sink?.write({ records: [{ id: 'r1' }] } as never);
      expect(written).toEqual([{ id: 'r1' }]);
    } finally {
      await kefu.close();
    }
    expect(lines.filter((line) => line.includes('@kefu/core'))).toEqual([]);
  });

  it('redacts a secret registered through a second copy of the same version', async () => {
    const secondCopyUrl = `${new URL('../src/redaction.ts', import.meta.url).href}?second-copy`;
    const secondCopy = (await import(/* @vite-ignore */ secondCopyUrl)) as typeof import('../src/redaction.js');
    secondCopy.registerSecret('token-from-a-nested-copy');
    expect(redactText('got token-from-a-nested-copy back')).toBe('got [redacted] back');
  });

  it('refuses a plugin defined with another version and names the command that fixes it', async () => {
    // Given a plugin under development whose own node_modules holds @kefu/core 0.0.9
    const pluginProject = join(tmpdir(), 'acme-sink-dev');
    const theirs: CoreIdentity = {
      version: '0.0.9',
      location: pathToFileURL(join(pluginProject, 'node_modules/@kefu/core/dist/plugin.js')).href,
      instance: 'another-copy',
      tokens: TOKENS,
    };
    const error = await failure(loadPluginInstances('sinks', [{ use: pluginDefinedWith(theirs) }], appDir));
    expect(error.code).toBe('KEFU_PLUGIN_DUPLICATE_CORE');
    expect(error.message).toContain(`defined with @kefu/core 0.0.9, the runtime is @kefu/core ${CORE_VERSION}`);
    expect(error.message).toContain(`run \`npm install @kefu/core@${CORE_VERSION}\``);
    expect(error.message).toContain(`in ${pluginProject},`);
    expect(error.message).toContain('or move the runtime to @kefu/core 0.0.9');
    expect(error.details?.fix).toEqual({ directory: pluginProject, command: `npm install @kefu/core@${CORE_VERSION}` });
    expect(error.fix).toContain('peerDependency');
  });

  it('finds the project of a copy installed by pnpm', async () => {
    const project = join(tmpdir(), 'acme-sink-pnpm');
    const location = join(project, 'node_modules/.pnpm/@kefu+core@0.0.9/node_modules/@kefu/core/dist/plugin.js');
    const theirs: CoreIdentity = { version: '0.0.9', location: pathToFileURL(location).href, instance: 'x' };
    const error = await failure(loadPluginInstances('sinks', [{ use: pluginDefinedWith(theirs) }], appDir));
    expect(error.details?.fix).toEqual({ directory: project, command: `npm install @kefu/core@${CORE_VERSION}` });
  });

  it('names the package that brings its own copy as a dependency instead of an install command', async () => {
    const location = join(appDir, 'node_modules/@acme/kefu-sink/node_modules/@kefu/core/dist/plugin.js');
    const theirs: CoreIdentity = { version: '0.0.9', location: pathToFileURL(location).href, instance: 'x' };
    const error = await failure(loadPluginInstances('sinks', [{ use: pluginDefinedWith(theirs) }], appDir));
    expect(error.message).toContain('@acme/kefu-sink brings its own @kefu/core 0.0.9 as a dependency');
    expect(error.message).not.toContain('npm install');
    expect(error.details?.fix).toBeUndefined();
  });

  it('refuses a copy of the same version whose DI tokens differ', async () => {
    const theirs: CoreIdentity = {
      ...coreIdentity,
      instance: 'modified-copy',
      tokens: { ...TOKENS, Sink: Symbol.for('kefu.Sink.v2') },
    };
    expect(coreMismatch(theirs)).toContain('other DI tokens than the runtime');
    const error = await failure(loadPluginInstances('sinks', [{ use: pluginDefinedWith(theirs) }], appDir));
    expect(error.code).toBe('KEFU_PLUGIN_DUPLICATE_CORE');
    expect(error.message).toContain('(Sink)');
  });
});

describe('copies of @kefu/core at run time', () => {
  it('warns when the runtime starts while another version of core is loaded', async () => {
    // Another version announces itself on the process-wide list when evaluated; this test
    // puts its identity there directly (the packed-install test loads a real other version).
    const copies = (globalThis as Record<symbol, CoreIdentity[]>)[Symbol.for('kefu.core.copies')] as CoreIdentity[];
    const other: CoreIdentity = { version: '0.0.9', location: 'file:///elsewhere/plugin.js', instance: 'other' };
    copies.push(other);
    try {
      const lines: string[] = [];
      const kefu = await createKefu({ logger: createJsonLogger({ level: 'warn', write: (line) => lines.push(line) }) });
      await kefu.close();
      const warning = lines.find((line) => line.includes('another version of @kefu/core'));
      expect(warning).toContain('0.0.9 at file:///elsewhere/plugin.js');
      expect(warning).toContain('npm ls @kefu/core');
    } finally {
      copies.splice(copies.indexOf(other), 1);
    }
  });
});

describe('names', () => {
  it('derives package names and default instance ids', () => {
    expect(packageNameOf('@kefu/wechat-mp/extra')).toBe('@kefu/wechat-mp');
    expect(packageNameOf('lodash/fp')).toBe('lodash');
    const plugin = definePlugin({
      name: '@kefu/sink-file',
      kind: 'sink',
      configSchema: z.object({}),
      module: () => new ContainerModule(() => {}),
    });
    expect(defaultInstanceId(plugin)).toBe('sink-file');
  });

  it('keeps CORE_VERSION equal to the package version', async () => {
    const manifest = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(CORE_VERSION).toBe(manifest.version);
  });
});
