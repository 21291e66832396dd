import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Options of {@link runReadmeSnippet}. */
export interface ReadmeSnippetOptions {
  /** The package whose README holds the snippet (it must be built: the snippet imports the package by name). */
  packageDir: string;
  /** Working directory of the program (a temporary directory, usually). */
  cwd: string;
  /** Which ```ts block of the README (default 0, the first). */
  index?: number;
  timeoutMs?: number;
}

/**
 * Runs a TypeScript snippet of a package's README as a real program (Node strips the
 * types; the package imports itself by name, which resolves to its built `dist/`), so
 * the README cannot drift from the code. Rejects when the program fails.
 *
 * @example
 * ```ts
 * const { stdout } = await runReadmeSnippet({ packageDir: join(here, '..'), cwd: tempDir });
 * expect(stdout).toBe('stored 1 records\n');
 * ```
 */
export async function runReadmeSnippet(options: ReadmeSnippetOptions): Promise<{ stdout: string; stderr: string }> {
  if (!existsSync(join(options.packageDir, 'dist/index.js'))) {
    throw new Error(`runReadmeSnippet: build ${options.packageDir} first (\`pnpm test\` does; alone: \`pnpm tsc -b\`)`);
  }
  const readme = await readFile(join(options.packageDir, 'README.md'), 'utf8');
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  const snippet = snippets[options.index ?? 0];
  if (snippet === undefined)
    throw new Error(`runReadmeSnippet: no \`\`\`ts block #${options.index ?? 0} in the README`);
  // Inside the package, so the self-import by name resolves to this package.
  const path = join(options.packageDir, 'test', `.readme-snippet-${process.pid}.mts`);
  await writeFile(path, snippet);
  try {
    return await promisify(execFile)(process.execPath, [path], {
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 20_000,
    });
  } finally {
    await rm(path, { force: true });
  }
}
