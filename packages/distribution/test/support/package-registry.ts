import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

/** The manifest of a packed package (its package.json inside the tarball). */
export interface PackedManifest {
  name: string;
  version: string;
  [field: string]: unknown;
}

/** Reads `package/package.json` out of a tarball made by `npm pack` / `pnpm pack`. */
export function manifestOfTarball(tarball: string): PackedManifest {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
}

/** Lists the files of a tarball, without the leading `package/`. */
export function filesOfTarball(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith('package/'))
    .map((line) => line.slice('package/'.length));
}

interface ServedVersion {
  manifest: PackedManifest;
  tarballName: string;
  integrity: string;
  shasum: string;
}

/**
 * An npm registry on loopback that serves packed tarballs under their names, so a test
 * installs `@kefu/cli` with plain `npm install` the way a user installs the published
 * package: semver ranges resolved, peer dependencies placed by npm, bins linked. It serves
 * only what it was given (a scope is pointed at it with `@scope:registry`); every other
 * package comes from the registry npm is configured with.
 */
export class LoopbackPackageRegistry {
  readonly #versions = new Map<string, Map<string, ServedVersion>>();
  readonly #tarballs = new Map<string, Buffer>();
  readonly #server: Server;
  #url = '';

  private constructor() {
    this.#server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://registry').pathname).slice(1);
      const tarball = path.startsWith('-/tarballs/') ? this.#tarballs.get(path.slice('-/tarballs/'.length)) : undefined;
      if (tarball) {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
        response.end(tarball);
        return;
      }
      const packument = this.#packument(path);
      if (!packument) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: `${path} is not served by this test registry` }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(packument));
    });
  }

  /** Starts a registry on a free loopback port. */
  static async start(): Promise<LoopbackPackageRegistry> {
    const registry = new LoopbackPackageRegistry();
    await new Promise<void>((resolve) => registry.#server.listen(0, '127.0.0.1', resolve));
    registry.#url = `http://127.0.0.1:${(registry.#server.address() as AddressInfo).port}/`;
    return registry;
  }

  /** The registry URL, with the trailing slash npm expects. */
  get url(): string {
    return this.#url;
  }

  /** Serves a tarball as `name@version` from now on (its manifest says which). */
  add(tarball: string): PackedManifest {
    const bytes = readFileSync(tarball);
    const manifest = manifestOfTarball(tarball);
    const tarballName = `${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}-${basename(tarball)}`;
    this.#tarballs.set(tarballName, bytes);
    const versions = this.#versions.get(manifest.name) ?? new Map<string, ServedVersion>();
    versions.set(manifest.version, {
      manifest,
      tarballName,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      shasum: createHash('sha1').update(bytes).digest('hex'),
    });
    this.#versions.set(manifest.name, versions);
    return manifest;
  }

  /** Stops serving and closes open connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The registry document of a package: every version with its tarball URL and integrity. */
  #packument(name: string): object | undefined {
    const versions = this.#versions.get(name);
    if (!versions) return undefined;
    const latest = [...versions.keys()].sort(compareVersions).at(-1) as string;
    return {
      name,
      'dist-tags': { latest },
      versions: Object.fromEntries(
        [...versions.entries()].map(([version, served]) => [
          version,
          {
            ...served.manifest,
            _id: `${name}@${version}`,
            dist: {
              tarball: `${this.#url}-/tarballs/${served.tarballName}`,
              integrity: served.integrity,
              shasum: served.shasum,
            },
          },
        ]),
      ),
    };
  }
}

/** Orders plain `X.Y.Z` versions numerically (the only kind this registry is given). */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
