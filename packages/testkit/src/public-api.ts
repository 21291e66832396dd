import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * A package's public API is deliberate: its export snapshot test lists the runtime names of
 * each entry inline (so a change to the surface is a visible diff in review), and the
 * README's `## API` section lists the main entry's names for users.
 */

/** The runtime names a module namespace exports, sorted (types leave no runtime name). */
export function runtimeExportNames(namespace: object): string[] {
  return Object.keys(namespace).sort();
}

/**
 * The names a README's `## API` section lists, sorted: the code spans a list item starts with
 * (`` - `name` — what it is ``, or several: `` - `FileSink`, `parseFileSinkConfig` — … ``).
 * Rejects when the README has no such section.
 */
export async function readmeApiNames(readmePath: string | URL): Promise<string[]> {
  const readme = await readFile(readmePath, 'utf8');
  const section = /^## API\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (section === undefined) throw new Error(`readmeApiNames: ${String(readmePath)} has no "## API" section`);
  const leadingSpans = [...section.matchAll(/^- ((?:`[\w$]+`(?:, )?)+)/gm)].map((match) => match[1] as string);
  return leadingSpans.flatMap((spans) => [...spans.matchAll(/`([\w$]+)`/g)].map((match) => match[1] as string)).sort();
}

/** One entry point of a package (`@kefu/x` or a subpath such as `@kefu/x/wire`). */
export interface PublicEntry {
  /** Imports the entry; written in the package's own test, so it resolves there. */
  load: () => Promise<object>;
  /** Its runtime export names, sorted. */
  names: readonly string[];
}

/** What {@link describePublicApi} checks. */
export interface PublicApi {
  /** The package's main entry, whose names the README lists. */
  main: PublicEntry & { specifier: string };
  /** Its README (its `## API` section lists the main entry, name for name). */
  readme: string | URL;
  /** Opt-in subpath entries by specifier. */
  subpaths?: Record<string, PublicEntry>;
}

/**
 * The export snapshot test of a package: each entry exports exactly the names listed, and
 * the README's API section lists the main entry's names.
 *
 * @example
 * ```ts
 * describePublicApi({
 *   main: { specifier: '@kefu/youmi', load: () => import('@kefu/youmi'), names: ['YoumiProvider', 'default', 'plugin'] },
 *   readme: new URL('../README.md', import.meta.url),
 * });
 * ```
 */
export function describePublicApi(api: PublicApi): void {
  const entries: Array<[string, PublicEntry]> = [[api.main.specifier, api.main], ...Object.entries(api.subpaths ?? {})];
  describe('public API (change it on purpose: these lists and the README)', () => {
    it.each(entries)('%s exports exactly the names listed', async (_, entry) => {
      expect(runtimeExportNames(await entry.load())).toEqual(entry.names);
    });

    it("the README's API section lists the main entry, name for name", async () => {
      expect(await readmeApiNames(api.readme)).toEqual(api.main.names);
    });
  });
}
