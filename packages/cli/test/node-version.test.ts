import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAtLeast, minimumNodeVersion, nodeVersionProblem } from '../src/node-version.js';

const packageDir = resolve(fileURLToPath(import.meta.url), '../..');
const BIN = resolve(packageDir, 'dist/bin.js');
const manifest = JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
};
const minimum = minimumNodeVersion(manifest.engines.node);

/** The system Node of this project's machines is 20 (the bootstrap installs a newer one beside it). */
const SYSTEM_NODE = '/usr/bin/node';
function versionOf(executable: string): string | undefined {
  if (!existsSync(executable)) return undefined;
  return spawnSync(executable, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() || undefined;
}
const systemNodeVersion = versionOf(SYSTEM_NODE);
const systemNodeIsTooOld = systemNodeVersion !== undefined && !isAtLeast(systemNodeVersion, minimum);

describe('the Node version check of the kefu command', () => {
  it('reads the minimum from engines.node', () => {
    expect(minimum).toBe('22.19.0');
    expect(minimumNodeVersion('>= v24')).toBe('24');
    expect(() => minimumNodeVersion('^22 || ^24')).toThrow('engines.node must read ">=X.Y.Z"');
  });

  it('compares versions field by field, numerically', () => {
    expect(isAtLeast('22.19.0', '22.19.0')).toBe(true);
    expect(isAtLeast('v22.20.0', '22.19.0')).toBe(true);
    expect(isAtLeast('22.9.0', '22.19.0')).toBe(false);
    expect(isAtLeast('20.20.2', '22.19.0')).toBe(false);
    expect(isAtLeast('24.0.0', '22.19.0')).toBe(true);
    const version = fc.tuple(fc.nat(40), fc.nat(40), fc.nat(40));
    fc.assert(
      fc.property(version, version, (a, b) => {
        const order = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        expect(isAtLeast(a.join('.'), b.join('.'))).toBe(order >= 0);
      }),
    );
  });

  it('says what is needed and what is there, and nothing when the Node is new enough', () => {
    expect(nodeVersionProblem('v20.20.2', '22.19.0', '/usr/bin/node')).toMatch(
      /^kefu needs Node ≥ 22\.19\.0, you have 20\.20\.2 \(\/usr\/bin\/node\)\.\nInstall Node 22 or newer/,
    );
    expect(nodeVersionProblem('24.1.0', '22.19.0', '/opt/node')).toBeUndefined();
  });

  it.runIf(systemNodeIsTooOld)(
    `given the system Node ${systemNodeVersion ?? ''}, when the built kefu runs on it, then it names both versions instead of failing on a missing export`,
    () => {
      const result = spawnSync(SYSTEM_NODE, [BIN, '--version'], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`kefu needs Node ≥ ${minimum}, you have ${systemNodeVersion} (${SYSTEM_NODE}).`);
      expect(result.stderr).not.toContain('SyntaxError');
    },
  );

  it('given a Node new enough, when the built kefu runs, then it answers', () => {
    const result = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });
});
