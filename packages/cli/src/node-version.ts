/**
 * The Node.js version check of the `kefu` command. `bin.ts` imports only this module
 * before the rest of the CLI, so it must run on any Node that still parses ES2023
 * modules: no imports, nothing newer than Node 18. The CLI's own imports need Node
 * ≥ 22.19 (`node:module`'s `findPackageJSON`, `node:sqlite`, undici 8): an older Node
 * would fail on a missing export before any of kefu's code runs.
 */

/** The lowest version an npm `engines.node` range of the form `>=X.Y.Z` allows. */
export function minimumNodeVersion(enginesNode: string): string {
  const match = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(enginesNode);
  if (!match?.[1]) throw new Error(`engines.node must read ">=X.Y.Z", got "${enginesNode}"`);
  return match[1];
}

/** True when version `current` (`22.19.0`, `v20.20.2`) is at least `minimum`. */
export function isAtLeast(current: string, minimum: string): boolean {
  const parts = (version: string) =>
    version
      .replace(/^v/, '')
      .split('.')
      .map((part) => Number.parseInt(part, 10) || 0);
  const have = parts(current);
  const need = parts(minimum);
  for (let index = 0; index < 3; index += 1) {
    const difference = (have[index] ?? 0) - (need[index] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
}

/** The message for a Node that is too old, or `undefined` when `current` is new enough. */
export function nodeVersionProblem(current: string, minimum: string, executable: string): string | undefined {
  if (isAtLeast(current, minimum)) return undefined;
  const wantedMajor = minimum.split('.')[0];
  return [
    `kefu needs Node ≥ ${minimum}, you have ${current.replace(/^v/, '')} (${executable}).`,
    `Install Node ${wantedMajor} or newer (an LTS release) and run kefu with it; in a clone of the kefu repository, bin/kefu uses the Node that scripts/bootstrap.sh installs.`,
  ].join('\n');
}
