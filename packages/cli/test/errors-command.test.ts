import { Writable } from 'node:stream';
import { runCli } from '@kefu/cli';
import { describe, expect, it } from 'vitest';

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function kefu(args: string[]) {
  const stdout = new Captured();
  const stderr = new Captured();
  const code = await runCli(args, { stdout, stderr, env: {}, cwd: process.cwd() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('kefu errors <platform number>', () => {
  it('given the number WeChat shows (45009), when asked, then it prints the kefu code, its message and fix', async () => {
    const run = await kefu(['errors', '45009']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('platform code 45009 →');
    expect(run.stdout).toMatch(/^WECHAT_45009 \(@kefu\/wechat-mp\)$/m);
    expect(run.stdout).toContain('daily API quota');
    expect(run.stdout).toMatch(/^ {2}fix: /m);
  });

  it("given WeChat's -1 and Youmi's 10003, then the codes whose catalogue entries name them are printed", async () => {
    expect((await kefu(['errors', '--', '-1'])).stdout).toContain('WECHAT_SYSTEM_BUSY');
    expect((await kefu(['errors', '10003'])).stdout).toContain('YOUMI_TOKEN_REJECTED');
  });

  it('given a number no catalogue knows, then a usage error says what such a code becomes', async () => {
    const run = await kefu(['errors', '99999999']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no kefu error code for platform code 99999999');
    expect(run.stderr).toContain('WECHAT_UNKNOWN_ERRCODE');
  });
});
