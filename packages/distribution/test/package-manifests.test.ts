import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The rules every published manifest follows, read from the workspace's package.json
// files, and the checks a release runs on the packed tarballs (publint, attw).

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, Record<string, string> | string>;
  files?: string[];
  publishConfig?: { access?: string; exports?: Record<string, Record<string, string> | string> };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;
const workspacePackages = readdirSync(join(repoRoot, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({
    dir: entry.name,
    manifest: JSON.parse(readFileSync(join(repoRoot, 'packages', entry.name, 'package.json'), 'utf8')) as Manifest,
  }));
const published = workspacePackages.filter(({ manifest }) => manifest.private !== true);

/** Provider and sink packages (what a config's `use` names), and DI modules such as token stores. */
const PLUGINS = [
  '@kefu/wechat-mp',
  '@kefu/youmi',
  '@kefu/wecom-kf',
  '@kefu/sink-db',
  '@kefu/sink-file',
  '@kefu/sink-http',
  '@kefu/sink-nats',
  '@kefu/token-store-redis',
];

/** Libraries plugins share (a plugin never depends on another plugin): plain dependencies of the plugins that use them. */
const LIBRARIES = ['@kefu/wechat-crypto'];

describe('the published packages', () => {
  it('are the fourteen @kefu packages; bench, reliability and distribution stay private', () => {
    expect(published.map(({ manifest }) => manifest.name).sort()).toEqual(
      [
        '@kefu/cli',
        '@kefu/core',
        '@kefu/emulator',
        '@kefu/sync-workers',
        '@kefu/testkit',
        ...PLUGINS,
        ...LIBRARIES,
      ].sort(),
    );
    for (const name of ['@kefu/bench', '@kefu/reliability', '@kefu/distribution']) {
      expect(workspacePackages.find(({ manifest }) => manifest.name === name)?.manifest.private, name).toBe(true);
    }
  });

  it.each(published.map(({ dir, manifest }) => [manifest.name, dir, manifest] as const))(
    '%s says what it is, where it comes from and what it needs',
    (_name, dir, manifest) => {
      const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
      expect(readFileSync(join(repoRoot, 'packages', dir, 'LICENSE'), 'utf8')).toBe(license);
      expect(manifest.license).toBe('MIT');
      expect(manifest.repository).toEqual({ ...rootManifest.repository, directory: `packages/${dir}` });
      expect(manifest.engines).toEqual(rootManifest.engines);
      expect(readFileSync(join(repoRoot, 'packages', dir, 'README.md'), 'utf8')).toContain(`# ${manifest.name}`);
      expect(manifest.files).toEqual(['dist', 'src', 'README.md', 'LICENSE', '!**/*.tsbuildinfo', '!**/*.test.ts']);
      expect(manifest.main).toBe('./dist/index.js');
      expect(manifest.types).toBe('./dist/index.d.ts');
    },
  );

  it.each(published.map(({ manifest }) => [manifest.name, manifest] as const))(
    '%s publishes the exports of the workspace without the @kefu/source condition',
    (_name, manifest) => {
      const exports = manifest.exports ?? {};
      const withoutSource = Object.fromEntries(
        Object.entries(exports).map(([subpath, entry]) => [
          subpath,
          typeof entry === 'string'
            ? entry
            : Object.fromEntries(Object.entries(entry).filter(([c]) => c !== '@kefu/source')),
        ]),
      );
      expect(manifest.publishConfig).toEqual({ access: 'public', exports: withoutSource });
      for (const [subpath, entry] of Object.entries(withoutSource)) {
        if (typeof entry === 'string') continue;
        // types first (TypeScript takes the first match), default last (it matches everything).
        expect(Object.keys(entry), subpath).toEqual(['types', 'default']);
        expect(entry.default, subpath).toMatch(/^\.\/dist\/.+\.js$/);
        expect(entry.types, subpath).toBe(entry.default?.replace(/\.js$/, '.d.ts'));
      }
    },
  );

  it.each(PLUGINS.map((name) => [name, published.find(({ manifest }) => manifest.name === name)?.manifest] as const))(
    '%s takes @kefu/core and inversify from the app (peer dependencies), and builds against them',
    (_name, manifest) => {
      expect(manifest?.peerDependencies).toMatchObject({ '@kefu/core': 'workspace:^', inversify: '^8.2.3' });
      expect(manifest?.devDependencies).toMatchObject({ '@kefu/core': 'workspace:*', inversify: '^8.2.3' });
      expect(Object.keys(manifest?.dependencies ?? {})).not.toContain('@kefu/core');
      expect(Object.keys(manifest?.dependencies ?? {})).not.toContain('inversify');
    },
  );

  it.each(LIBRARIES.map((name) => [name, published.find(({ manifest }) => manifest.name === name)?.manifest] as const))(
    '%s depends on nothing of kefu but @kefu/core, a peer it builds against, and needs no inversify',
    (_name, manifest) => {
      expect(manifest?.peerDependencies).toEqual({ '@kefu/core': 'workspace:^' });
      expect(manifest?.devDependencies).toMatchObject({ '@kefu/core': 'workspace:*' });
      expect(Object.keys(manifest?.dependencies ?? {}).filter((name) => name.startsWith('@kefu/'))).toEqual([]);
      expect(Object.keys({ ...manifest?.dependencies, ...manifest?.peerDependencies })).not.toContain('inversify');
    },
  );

  it('gives every peer dependency a dev dependency, so the workspace builds and tests against it', () => {
    for (const { manifest } of published) {
      for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
        // vitest is testkit's host: the workspace root provides it.
        if (peer === 'vitest') continue;
        expect(Object.keys(manifest.devDependencies ?? {}), `${manifest.name} peer ${peer}`).toContain(peer);
      }
    }
  });

  it('depends on ranges, so npm can share one copy of each dependency between the packages', () => {
    for (const { manifest } of published) {
      for (const [dependency, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        expect(range, `${manifest.name} → ${dependency}`).toMatch(/^(\^|workspace:\^|>=)/);
      }
    }
  });

  it('composes several kefu packages only in the CLI, which brings every bundled plugin and their inversify; others use only the shared libraries', () => {
    for (const { manifest } of published) {
      const kefuDependencies = Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@kefu/'));
      if (manifest.name === '@kefu/cli') {
        expect(kefuDependencies).toEqual(expect.arrayContaining(['@kefu/core', ...PLUGINS]));
        expect(manifest.dependencies?.inversify).toBe('^8.2.3');
      } else {
        expect(
          kefuDependencies.filter((name) => !LIBRARIES.includes(name)),
          manifest.name,
        ).toEqual([]);
      }
    }
  });

  it('versions every published package together with Changesets (one fixed group)', () => {
    const config = JSON.parse(readFileSync(join(repoRoot, '.changeset/config.json'), 'utf8')) as {
      fixed: string[][];
      access: string;
    };
    expect(config.access).toBe('public');
    expect(config.fixed).toHaveLength(1);
    expect([...(config.fixed[0] ?? [])].sort()).toEqual(published.map(({ manifest }) => manifest.name).sort());
    expect(new Set(published.map(({ manifest }) => manifest.version)).size).toBe(1);
  });

  it('states the versions in code that package.json states (CORE_VERSION, kefu --version)', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts/sync-version-constants.mjs'), '--check']);
    expect(stdout).toContain('packages/core/src/plugin.ts');
    expect(stdout).toContain('packages/cli/src/cli.ts');
    expect(stdout).not.toContain('differs');
  });

  it('passes publint (strict) and attw (esm-only profile) once packed', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts/check-packages.mjs')], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`scripts/check-packages.mjs failed:\n${error.stdout ?? error.message}`);
    });
    expect(stdout).toContain(`all ${published.length} packages pass publint and attw`);
  }, 180_000);
});
