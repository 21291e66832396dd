import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Which level `kefu sync` logs at: `--log-level` if given, else the config's `logger.level`,
// else info — and `--help` says exactly that (it showed a default that was never applied).

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function kefu(args: string[], cwd: string, options: { terminal?: boolean } = {}) {
  const stdout = new Captured();
  const stderr = new Captured();
  if (options.terminal) Object.defineProperty(stderr, 'isTTY', { value: true });
  const code = await runCli(args, { stdout, stderr, env: {}, cwd });
  const entries = stderr.text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string });
  // Without a terminal the summary is a JSON line too, written whatever the level: not a log line.
  const levels = entries.filter((entry) => entry.msg !== 'sync summary').map((entry) => entry.level);
  const summaries = entries.filter((entry) => entry.msg === 'sync summary');
  return { code, stdout: stdout.text, stderr: stderr.text, levels, summaries };
}

describe('--log-level and logger.level', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kefu-log-level-'));
    // No provider: the sync ends at once, logging `sync done` at info.
    const sinks = "sinks: [{ use: '@kefu/sink-file', config: { dir: ./out } }]\n";
    await writeFile(join(dir, 'quiet.yaml'), `logger: { level: error }\n${sinks}`);
    await writeFile(join(dir, 'plain.yaml'), sinks);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given logger.level error in the config and no flag, when syncing, then no info line is logged', async () => {
    const run = await kefu(['sync', '-c', 'quiet.yaml'], dir);
    expect(run.code).toBe(0);
    expect(run.levels).toEqual([]);
    // The summary is not a log line: the level does not hide it.
    expect(run.summaries).toEqual([expect.objectContaining({ level: 'info', records: 0, targets: [] })]);
  });

  it('given logger.level error in the config and --log-level debug, when syncing, then the flag wins', async () => {
    const run = await kefu(['sync', '-c', 'quiet.yaml', '--log-level', 'debug'], dir);
    expect(run.code).toBe(0);
    expect(run.levels).toEqual(expect.arrayContaining(['debug', 'info']));
  });

  it('given a terminal and no level anywhere, when syncing, then warn is the default: no info line competes with the progress block', async () => {
    const run = await kefu(['sync', '-c', 'plain.yaml'], dir, { terminal: true });
    expect(run.code).toBe(0);
    expect(run.levels).toEqual([]);
    // The human summary is still there, as text on a terminal.
    expect(run.stderr).toMatch(/synced 0 records in/);
    expect(run.summaries).toEqual([]);
  });

  it('given no level anywhere, when syncing, then info is the default', async () => {
    const run = await kefu(['sync', '-c', 'plain.yaml'], dir);
    expect(run.code).toBe(0);
    expect(run.levels).toContain('info');
    expect(run.levels).not.toContain('debug');
  });

  it('given --help, then the default it names is the one applied', async () => {
    const help = await kefu(['sync', '--help'], dir);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(default: logger.level from the config, else info)');
    const records = await kefu(['records', '--help'], dir);
    expect(records.stdout.replace(/\s+/g, ' ')).toContain('(default: logger.level from the config, else warn)');
  });
});
