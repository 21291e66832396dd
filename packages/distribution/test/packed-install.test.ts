import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesOfTarball, LoopbackPackageRegistry, manifestOfTarball } from './support/package-registry.js';
import { type CommandResult, runCommand, runSuccessfully } from './support/run-command.js';

// kefu as a user gets it. Every public package is packed (`pnpm pack`, what `pnpm publish`
// uploads), served by a loopback registry under its name, and installed with plain npm into
// an app in the system's temp directory, outside the workspace; every other dependency
// comes from the npm registry. Then the app runs kefu the ways the docs describe.
// Needs network access to the npm registry (a first run fills the npm cache; later runs
// reuse it). Locally KEFU_SKIP_PACKED_INSTALL=1 skips it; under CI=true it always runs.

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const fixtures = resolve(fileURLToPath(import.meta.url), '../fixtures');
const typescriptCompiler = join(repoRoot, 'node_modules/typescript/bin/tsc');
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const skipped = process.env.CI !== 'true' && process.env.KEFU_SKIP_PACKED_INSTALL === '1';
if (skipped) console.warn('packed-install test skipped: KEFU_SKIP_PACKED_INSTALL=1 (never skipped under CI=true)');

/** Each step runs processes (npm, node, tsc) while CI runs other suites beside them: no step is timed. */
const STEP_TIMEOUT_MS = 180_000;
/** Reused between runs, so only the first run downloads the third-party packages. */
const npmCache = process.env.KEFU_PACKED_INSTALL_NPM_CACHE ?? join(tmpdir(), 'kefu-packed-install-npm-cache');
const SECRET_ENV = 'ACME_WECHAT_SECRET';

/**
 * The official encrypted XML push (Token "AAAAA", EncodingAESKey 43 × "A", appid
 * wx134c8103faa5a59e): developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/message_push.html
 */
const OFFICIAL_ENCRYPTED_PUSH = {
  body: '<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt></xml>',
  query: { msgSignature: '6c12a4205838198b8fa631b3220723bb07f1015c', timestamp: '1715943329', nonce: '1590219412' },
};

/** The emulator's world: the same seed, clock and range give the same records everywhere. */
const world = {
  seed: 'packed-install',
  now: '2026-11-20T04:00:00.000Z',
  days: 3,
  recordsPerDay: 60,
  from: '2026-11-18T00:00:00+08:00',
  to: '2026-11-20T00:00:00+08:00',
};

interface PackedPackage {
  name: string;
  version: string;
  dir: string;
  tarball: string;
}

/**
 * A user's environment for npm, npx and kefu: this Node first on PATH, npm settings of our
 * own. The `@kefu` scope's registry goes into each project's .npmrc (see `pointScopeAt`):
 * a shell drops environment variables whose names are not identifiers, like npm_config_@kefu:registry.
 */
function userEnvironment(): NodeJS.ProcessEnv {
  // `pnpm test` exports its own npm_config_* and npm_package_* settings: a user's shell has none.
  const kept = Object.entries(process.env).filter(
    ([name]) =>
      !/^npm_(config|package|lifecycle)_/i.test(name) ||
      /^npm_config_(registry|https?_proxy|proxy|noproxy|cafile|strict_ssl)$/i.test(name),
  );
  return {
    ...Object.fromEntries(kept),
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    npm_config_cache: npmCache,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
  };
}

/** Makes npm in `projectDir` fetch `@kefu` packages from the test registry, as a company points a scope at its own registry. */
async function pointScopeAt(projectDir: string, registryUrl: string): Promise<void> {
  await writeFile(join(projectDir, '.npmrc'), `@kefu:registry=${registryUrl}\n`);
}

/** A kefu config: WeChat MP from the emulator into the sink plugin named by `use`. */
function linesConfig(baseUrl: string, appId: string, use: string, output: string): string {
  return [
    'providers:',
    "  - use: '@kefu/wechat-mp'",
    '    id: wx',
    '    config:',
    `      baseUrl: ${baseUrl}`,
    '      accounts:',
    `        - { appId: ${appId}, secret: '\${${SECRET_ENV}}' }`,
    'sinks:',
    `  - use: '${use}'`,
    '    id: lines',
    `    config: { path: ${output} }`,
    'checkpoints: { use: memory }',
    '',
  ].join('\n');
}

/** Every package installed under `nodeModules`, nested copies included: its name and directory. */
async function installedPackages(nodeModules: string): Promise<Array<{ name: string; dir: string }>> {
  const found: Array<{ name: string; dir: string }> = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (entry.name.startsWith('@')) {
        for (const scoped of await readdir(join(dir, entry.name), { withFileTypes: true })) {
          if (scoped.isDirectory())
            await visitPackage(join(dir, entry.name, scoped.name), `${entry.name}/${scoped.name}`);
        }
      } else await visitPackage(join(dir, entry.name), entry.name);
    }
  };
  const visitPackage = async (dir: string, name: string): Promise<void> => {
    found.push({ name, dir });
    await visit(join(dir, 'node_modules'));
  };
  await visit(nodeModules);
  return found;
}

async function linesOf(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
}

describe.skipIf(skipped)(
  'kefu installed from its packed tarballs with npm, outside the workspace',
  { timeout: STEP_TIMEOUT_MS },
  () => {
    let root: string;
    let app: string;
    let registry: LoopbackPackageRegistry;
    let env: NodeJS.ProcessEnv;
    let packed: PackedPackage[];
    let groundTruth: { appId: string; records: number };
    let emulatorProcess: ChildProcess | undefined;
    let emulator: { url: string; wechat: { baseUrl: string; accounts: Array<{ appId: string; secret: string }> } };
    const timings: Record<string, number> = {};

    async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[step] = Math.round(performance.now() - started);
      }
    }

    /** Runs the app's `kefu` (or another binary) with the emulator's secret in the environment. */
    function kefu(binary: string, args: string[]): Promise<CommandResult> {
      const secret = emulator.wechat.accounts[0]?.secret ?? '';
      return runCommand(binary, args, { cwd: app, env: { ...env, [SECRET_ENV]: secret } });
    }

    beforeAll(async () => {
      root = await realpath(await mkdtemp(join(tmpdir(), 'kefu-packed-install-')));
      // Inside the workspace, Node would find its node_modules by walking up and hide a missing dependency.
      if (root.startsWith(`${repoRoot}/`))
        throw new Error(`the temp directory ${root} is inside the workspace; set TMPDIR elsewhere`);
      app = join(root, 'app');
      const tarballs = join(root, 'tarballs');
      packed = await timed('pack', async () =>
        JSON.parse(
          execFileSync(process.execPath, [join(repoRoot, 'scripts/pack-packages.mjs'), tarballs], { encoding: 'utf8' }),
        ),
      );
      registry = await LoopbackPackageRegistry.start();
      for (const pkg of packed) registry.add(pkg.tarball);
      env = userEnvironment();

      // Another release of core, as a plugin built against it brings along: the packed core
      // with its version (package.json and CORE_VERSION) set to 0.0.9.
      const other = join(root, 'core-0.0.9');
      const core = packed.find((pkg) => pkg.name === '@kefu/core') as PackedPackage;
      await mkdir(other);
      execFileSync('tar', ['-xzf', core.tarball, '-C', other]);
      const otherManifest = join(other, 'package/package.json');
      const otherPlugin = join(other, 'package/dist/plugin.js');
      await writeFile(
        otherManifest,
        (await readFile(otherManifest, 'utf8')).replace(`"version": "${core.version}"`, '"version": "0.0.9"'),
      );
      await writeFile(
        otherPlugin,
        (await readFile(otherPlugin, 'utf8')).replace(`CORE_VERSION = '${core.version}'`, "CORE_VERSION = '0.0.9'"),
      );
      execFileSync('tar', ['-czf', join(tarballs, 'kefu-core-0.0.9.tgz'), '-C', other, 'package']);
      registry.add(join(tarballs, 'kefu-core-0.0.9.tgz'));

      // The third-party plugin, packed by its author with npm.
      await cp(join(fixtures, 'acme-kefu-sink-lines'), join(root, 'acme-kefu-sink-lines'), { recursive: true });
      const plugin = JSON.parse(
        (
          await runSuccessfully('npm', ['pack', '--json', '--pack-destination', tarballs], {
            cwd: join(root, 'acme-kefu-sink-lines'),
            env,
          })
        ).stdout,
      )[0] as { filename: string };

      // The same plugin in its author's folder, with its dev dependencies installed: its own
      // node_modules/@kefu/core, the same version as the app's (acme-dev), or 0.0.9 (acme-old).
      await cp(join(fixtures, 'acme-kefu-sink-lines'), join(root, 'acme-dev'), { recursive: true });
      await cp(join(fixtures, 'acme-kefu-sink-lines'), join(root, 'acme-old'), { recursive: true });
      const oldManifest = JSON.parse(await readFile(join(root, 'acme-old/package.json'), 'utf8'));
      oldManifest.peerDependencies['@kefu/core'] = '^0.0.9';
      oldManifest.devDependencies['@kefu/core'] = '0.0.9';
      await writeFile(join(root, 'acme-old/package.json'), JSON.stringify(oldManifest, null, 2));

      await cp(join(fixtures, 'app'), app, { recursive: true });
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'kefu-packed-app', private: true }, null, 2));
      for (const project of [app, join(root, 'acme-dev'), join(root, 'acme-old')])
        await pointScopeAt(project, registry.url);
      await timed('npm install (app, plugin folders)', () =>
        Promise.all([
          runSuccessfully(
            'npm',
            ['install', ...packed.map((pkg) => pkg.name), join(tarballs, plugin.filename), '@types/node@^24'],
            { cwd: app, env },
          ),
          runSuccessfully('npm', ['install'], { cwd: join(root, 'acme-dev'), env }),
          runSuccessfully('npm', ['install'], { cwd: join(root, 'acme-old'), env }),
        ]),
      );

      groundTruth = JSON.parse(
        (await runSuccessfully('node', ['ground-truth.mjs', JSON.stringify(world)], { cwd: app, env })).stdout,
      );

      // The emulator from the installed package's bin, for the CommonJS app and the kefu runs.
      emulatorProcess = spawn(
        join(app, 'node_modules/.bin/kefu-emulator'),
        [
          '--json',
          '--seed',
          world.seed,
          '--now',
          world.now,
          '--accounts',
          '1',
          '--days',
          String(world.days),
          '--records-per-day',
          String(world.recordsPerDay),
        ],
        { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      emulator = await new Promise((resolveLine, reject) => {
        let output = '';
        emulatorProcess?.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const newline = output.indexOf('\n');
          if (newline >= 0) resolveLine(JSON.parse(output.slice(0, newline)));
        });
        emulatorProcess?.once('exit', (code) =>
          reject(new Error(`kefu-emulator exited with ${code} before it was ready`)),
        );
      });
    }, 600_000);

    afterAll(async () => {
      if (emulatorProcess && emulatorProcess.exitCode === null) {
        const exited = new Promise((resolveExit) => emulatorProcess?.once('exit', resolveExit));
        emulatorProcess.kill('SIGTERM');
        await exited;
      }
      await registry?.close();
      console.info(`packed-install timings (ms): ${JSON.stringify(timings)}`);
      if (root && process.env.KEFU_KEEP_PACKED_INSTALL !== '1') await rm(root, { recursive: true, force: true });
    });

    it('packs every public package with real versions and the published exports', () => {
      expect(packed.map((pkg) => pkg.name)).toEqual([
        '@kefu/cli',
        '@kefu/core',
        '@kefu/emulator',
        '@kefu/sink-db',
        '@kefu/sink-file',
        '@kefu/sink-http',
        '@kefu/sink-nats',
        '@kefu/sync-workers',
        '@kefu/testkit',
        '@kefu/token-store-redis',
        '@kefu/wechat-crypto',
        '@kefu/wechat-mp',
        '@kefu/wecom-kf',
        '@kefu/youmi',
      ]);
      for (const pkg of packed) {
        const manifest = manifestOfTarball(pkg.tarball);
        const text = JSON.stringify(manifest);
        expect(text, `${pkg.name}: a workspace: range left in the tarball`).not.toContain('workspace:');
        expect(text, `${pkg.name}: the workspace-only export condition left in the tarball`).not.toContain(
          '@kefu/source',
        );
        const files = filesOfTarball(pkg.tarball);
        expect(files, pkg.name).toEqual(
          expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
        );
        expect(
          files.filter((file) => file.endsWith('.tsbuildinfo') || file.endsWith('.test.ts')),
          pkg.name,
        ).toEqual([]);
      }
    });

    it('installs one copy of @kefu/core, of the shared @kefu/wechat-crypto and of inversify, shared by every package', async () => {
      const installed = await installedPackages(join(app, 'node_modules'));
      const copiesOf = (name: string) => installed.filter((pkg) => pkg.name === name).map((pkg) => pkg.dir);
      expect(copiesOf('@kefu/core')).toEqual([join(app, 'node_modules/@kefu/core')]);
      expect(copiesOf('@kefu/wechat-crypto')).toEqual([join(app, 'node_modules/@kefu/wechat-crypto')]);
      expect(copiesOf('inversify')).toEqual([join(app, 'node_modules/inversify')]);
    });

    it('installs a tree with every peer dependency met, whose every package runs on the Node kefu requires', async () => {
      // npm ls exits non-zero on a missing or invalid (out-of-range) peer dependency.
      const listing = await runCommand('npm', ['ls', '--all'], { cwd: app, env });
      expect(listing.code, `${listing.stdout}${listing.stderr}`).toBe(0);
      const minimum = semver.minVersion(rootManifest.engines.node)?.version as string;
      const refusing: string[] = [];
      for (const pkg of await installedPackages(join(app, 'node_modules'))) {
        const manifest = JSON.parse(await readFile(join(pkg.dir, 'package.json'), 'utf8')) as {
          engines?: { node?: string };
        };
        const range = manifest.engines?.node;
        if (range && !semver.satisfies(minimum, range)) refusing.push(`${pkg.name} (engines.node ${range})`);
      }
      expect(refusing, `packages that do not accept Node ${minimum}`).toEqual([]);
    });

    it('runs an ES-module app that embeds kefu: every record the emulator serves lands in SQLite', async () => {
      const result = await timed('esm app', () =>
        runSuccessfully('node', ['esm-app.mjs', JSON.stringify({ ...world, database: join(app, 'esm.db') })], {
          cwd: app,
          env,
        }),
      );
      const outcome = JSON.parse(result.stdout);
      expect(outcome.expected).toBe(groundTruth.records);
      expect(outcome.expected).toBeGreaterThan(50);
      expect(outcome.stored).toBe(outcome.expected);
      expect(outcome.statuses).toEqual(['done']);
    });

    it('runs a CommonJS app that embeds kefu with require(), against the emulator started from its bin', async () => {
      const account = emulator.wechat.accounts[0] as { appId: string; secret: string };
      expect(account.appId).toBe(groundTruth.appId);
      const input = {
        baseUrl: emulator.wechat.baseUrl,
        appId: account.appId,
        from: world.from,
        to: world.to,
        database: join(app, 'cjs.db'),
      };
      const result = await timed('commonjs app', () =>
        runSuccessfully('node', ['cjs-app.cjs', JSON.stringify(input)], {
          cwd: app,
          env: { ...env, [SECRET_ENV]: account.secret },
        }),
      );
      const outcome = JSON.parse(result.stdout);
      expect(outcome.stored).toBe(groundTruth.records);
      expect(outcome.statuses).toEqual(['done']);
    });

    it.each([
      ['an ES module', 'wechat-push.mjs'],
      ['a CommonJS module (require)', 'wechat-push.cjs'],
    ])(
      'decrypts and normalizes the official encrypted WeChat push from %s with the installed @kefu/wechat-crypto',
      async (_name, script) => {
        const result = await runSuccessfully('node', [script, JSON.stringify(OFFICIAL_ENCRYPTED_PUSH)], {
          cwd: app,
          env,
        });
        expect(JSON.parse(result.stdout)).toMatchObject({
          provider: 'wechat-mp',
          account: 'wxba5fad812f8e6fb9',
          customer: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
          kind: 'event',
          raw: { Event: 'debug_demo', debug_str: 'hello world' },
        });
      },
    );

    it.each([
      ['an ES-module app, moduleResolution node16', 'typescript-esm/tsconfig.node16.json'],
      ['an ES-module app, moduleResolution bundler', 'typescript-esm/tsconfig.bundler.json'],
      ['a CommonJS app, module nodenext', 'typescript-cjs/tsconfig.json'],
    ])('type-checks %s against the published declarations', async (_name, project) => {
      const result = await timed(`tsc ${project}`, () =>
        runCommand(process.execPath, [typescriptCompiler, '-p', project, '--pretty', 'false'], { cwd: app, env }),
      );
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.code).toBe(0);
    });

    it('answers `npx kefu --version` with the installed version', async () => {
      const result = await runSuccessfully('npx', ['kefu', '--version'], { cwd: app, env });
      expect(result.stdout.trim()).toBe(packed.find((pkg) => pkg.name === '@kefu/cli')?.version);
    });

    it('runs `npx kefu demo`, the first thing the getting-started guide does', async () => {
      const result = await timed('kefu demo', () =>
        kefu('npx', ['kefu', 'demo', '--dir', 'demo', '--days', '1', '--json']),
      );
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as { records: number; byProvider: Record<string, number> };
      expect(summary.records).toBeGreaterThan(0);
      expect(Object.keys(summary.byProvider).sort()).toEqual(['wechat-mp', 'wecom-kf', 'youmi']);
    });

    it('runs `kefu sync` with a third-party sink plugin installed in the app', async () => {
      const { baseUrl } = emulator.wechat;
      await writeFile(
        join(app, 'installed.yaml'),
        linesConfig(baseUrl, groundTruth.appId, 'acme-kefu-sink-lines', './out/installed.tsv'),
      );
      const result = await timed('kefu sync', () =>
        kefu('npx', ['kefu', 'sync', '-c', 'installed.yaml', '--from', world.from, '--to', world.to, '--json']),
      );
      expect(result.stderr).not.toContain(emulator.wechat.accounts[0]?.secret);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).records).toBe(groundTruth.records);
      const lines = await linesOf(join(app, 'out/installed.tsv'));
      expect(lines).toHaveLength(groundTruth.records);
      expect(lines.every((line) => line.split('\t')[1] === 'wechat-mp')).toBe(true);
      expect(await readFile(join(app, 'out/installed.tsv.core'), 'utf8')).toContain(
        join(app, 'node_modules/@kefu/core/'),
      );
    });

    it('runs a plugin from its author folder, which has its own copy of the same @kefu/core version', async () => {
      const { baseUrl } = emulator.wechat;
      await writeFile(
        join(app, 'dev.yaml'),
        linesConfig(baseUrl, groundTruth.appId, '../acme-dev/index.js', './out/dev.tsv'),
      );
      const result = await kefu('npx', [
        'kefu',
        'sync',
        '-c',
        'dev.yaml',
        '--from',
        world.from,
        '--to',
        world.to,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('KEFU_PLUGIN_DUPLICATE_CORE');
      expect(result.stderr).not.toContain('another version of @kefu/core');
      expect(await linesOf(join(app, 'out/dev.tsv'))).toHaveLength(groundTruth.records);
      // The plugin really ran on the second copy, beside the app's.
      expect(await readFile(join(app, 'out/dev.tsv.core'), 'utf8')).toContain(
        join(root, 'acme-dev/node_modules/@kefu/core/'),
      );
    });

    it("runs the app's third-party plugin with a clone's bin/kefu (the workspace's core beside the app's)", async () => {
      const { baseUrl } = emulator.wechat;
      await writeFile(
        join(app, 'clone.yaml'),
        linesConfig(baseUrl, groundTruth.appId, 'acme-kefu-sink-lines', './out/clone.tsv'),
      );
      const result = await kefu(join(repoRoot, 'bin/kefu'), [
        'sync',
        '-c',
        'clone.yaml',
        '--from',
        world.from,
        '--to',
        world.to,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(await linesOf(join(app, 'out/clone.tsv'))).toHaveLength(groundTruth.records);
    });

    it('refuses a plugin built against another core version, and the command its message names fixes it', async () => {
      const { baseUrl } = emulator.wechat;
      await writeFile(
        join(app, 'old.yaml'),
        linesConfig(baseUrl, groundTruth.appId, '../acme-old/index.js', './out/old.tsv'),
      );
      const args = ['kefu', 'sync', '-c', 'old.yaml', '--from', world.from, '--to', world.to, '--json'];
      const refused = await kefu('npx', args);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('KEFU_PLUGIN_DUPLICATE_CORE');
      expect(refused.stderr).toContain('defined with @kefu/core 0.0.9, the runtime is @kefu/core 0.1.0');
      const fix = /run `([^`]+)` \(pnpm: [^)]*\) in (\S+), keeping/.exec(refused.stderr);
      expect(fix, refused.stderr).not.toBeNull();
      const [, command, directory] = fix as unknown as [string, string, string];
      expect(directory).toBe(join(root, 'acme-old'));

      // When the user runs exactly that command where the message says
      await timed('fix line', () => runSuccessfully(command, [], { cwd: directory, env, shell: true }));

      // Then the same sync works, on a copy of core of the runtime's version
      const fixed = await kefu('npx', args);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(await linesOf(join(app, 'out/old.tsv'))).toHaveLength(groundTruth.records);
      expect(await readFile(join(app, 'out/old.tsv.core'), 'utf8')).toMatch(/^0\.1\.0 /);
    });
  },
);
