import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { createKefu, parseKefuConfig, readKefuConfigFile, redactConfigText, redactText } from '@kefu/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Config input that used to cost minutes or a stack overflow: a 200 000-character `use`
 * (redaction was quadratic in the message length: 60 000 characters took 33 s) and a YAML
 * alias inside its own anchor ("Maximum call stack size exceeded"). Both are now typed
 * config errors. The assertions are on the errors; the suite's test timeout would catch
 * a return of the slow path.
 */

const HUGE = 200_000;
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kefu-config-limits-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function memoryStream(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      stream.text += String(chunk);
      callback();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

async function cli(args: string[]) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await runCli(args, { stdout, stderr, env: {}, cwd: scratch });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('a 200 000-character `use`', () => {
  it('given it in a config, when parsed, then KEFU_CONFIG_INVALID says how long it is and the bound', () => {
    expect(() => parseKefuConfig({ providers: [{ use: 'a'.repeat(HUGE) }] })).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining(
          `providers[0].use: is ${HUGE} characters long; a package name or path has at most 4096`,
        ),
      }),
    );
  });

  it('given it passed to createKefu, when composing, then KEFU_CONFIG_INVALID names the position', async () => {
    await expect(createKefu({ providers: [{ use: 'x'.repeat(HUGE) }], logger: { level: 'error' } })).rejects.toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: `providers[0].use is ${HUGE} characters long; a package name or path has at most 4096`,
      }),
    );
  });

  it('given a long name within the bound that is not installed, when composing, then the message quotes only its start', async () => {
    const name = `@acme/${'k'.repeat(4000)}`;
    const error = await createKefu({ sinks: [{ use: name }], logger: { level: 'error' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEFU_PLUGIN_NOT_FOUND' });
    expect((error as Error).message).toContain(`"@acme/${'k'.repeat(54)}…" (4006 characters)`);
    expect((error as Error).message.length).toBeLessThan(9000);
  });

  it('given it in a YAML file, when `kefu sync` reads it, then it exits 2 with one line', async () => {
    const path = join(scratch, 'long-use.yaml');
    writeFileSync(path, `providers:\n  - use: '${'b'.repeat(HUGE)}'\n`);
    const run = await cli(['sync', '-c', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`is ${HUGE} characters long`);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('given 200 000 characters without `=`, when redacted, then the text comes back unchanged (linear scan)', () => {
    const text = 'a'.repeat(HUGE);
    expect(redactText(text)).toBe(text);
    expect(redactText(`${'a-'.repeat(HUGE / 2)}=1`)).toBe(`${'a-'.repeat(HUGE / 2)}=1`);
    expect(redactConfigText(text)).toBe(text);
    expect(redactText('https://x/?access_token=abc&b=2 2fa_token=xyz')).toBe(
      'https://x/?access_token=[redacted]&b=2 2fa_token=[redacted]',
    );
  });
});

describe('a YAML alias inside its own anchor', () => {
  it('given `a: &x [*x]`, when the file is read, then KEFU_CONFIG_INVALID names the field that refers to itself', async () => {
    const path = join(scratch, 'alias.yaml');
    writeFileSync(path, 'providers: &loop\n  - use: x\n    config: *loop\n');
    await expect(readKefuConfigFile(path)).rejects.toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringContaining('providers[0].config refers to itself (a YAML alias inside its own anchor)'),
      }),
    );
  });

  it('given a self-referencing config, when `kefu doctor` checks it, then it exits 2 and says so, with no stack trace', async () => {
    const path = join(scratch, 'alias-doctor.yaml');
    writeFileSync(path, 'sync: &x { job: *x }\n');
    const run = await cli(['doctor', '-c', path]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('sync.job refers to itself');
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/Maximum call stack|at .*\.js:\d+/);
  });
});
