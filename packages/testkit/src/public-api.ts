import { readFile } from 'node:fs/promises';

/**
 * A package's public API is deliberate: an export snapshot test lists the runtime names of
 * each entry inline (so a change to the surface is a visible diff in review), and the
 * README's `## API` section lists the same names for users.
 */

/** The runtime names a module namespace exports, sorted (types leave no runtime name). */
export function runtimeExportNames(namespace: object): string[] {
  return Object.keys(namespace).sort();
}

/**
 * The names a README's `## API` section lists, sorted: every list item that starts with a
 * code span (`` - `name` — what it is ``). Rejects when the README has no such section.
 *
 * @example
 * ```ts
 * expect(await readmeApiNames(join(here, '../README.md'))).toEqual(runtimeExportNames(await import('@kefu/youmi')));
 * ```
 */
export async function readmeApiNames(readmePath: string): Promise<string[]> {
  const readme = await readFile(readmePath, 'utf8');
  const section = /^## API\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (section === undefined) throw new Error(`readmeApiNames: ${readmePath} has no "## API" section`);
  return [...section.matchAll(/^- `([\w$]+)`/gm)].map((match) => match[1] as string).sort();
}
