import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEmulator, optionsFromArgs } from '../src/bin.js';
import { startEmulator } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('kefu-emulator flags', () => {
  it('given flags, then they become emulator and fault options', () => {
    const options = optionsFromArgs([
      '--port',
      '4010',
      '--seed',
      's',
      '--records-per-day',
      '1000',
      '--days',
      '7',
      '--latency-ms',
      '30',
      '--busy-rate',
      '0.1',
    ]);
    expect(options).toMatchObject({
      port: 4010,
      seed: 's',
      wechat: { recordsPerDay: 1000, days: 7 },
      faults: { latencyMs: 30, wechatBusyRate: 0.1 },
      json: false,
    });
  });

  it('given the flags of every WeChat option and reading, then they become those options', () => {
    const options = optionsFromArgs(
      [
        '--freeze-clock',
        '--uniform-days',
        '--token-overlap-seconds=60',
        '--invite-accept-ms=0',
        '--messages-per-interaction=3',
        '--live-records-per-second=50',
        '--msgid-model=position',
        '--continuation=exclusive',
        '--response-msgid=last',
        '--endtime=inclusive',
        '--number-field=requested',
        '--cursor-fault=stall',
        '--visibility-lag-seconds=30',
        '--delete-agent=post',
        '--print-config',
      ].flatMap((flag) => flag.split('=')),
    );
    expect(options).toMatchObject({
      freezeClock: true,
      printConfig: true,
      wechat: {
        uniformDays: true,
        tokenOverlapSeconds: 60,
        inviteAcceptMs: 0,
        messagesPerInteraction: 3,
        liveRecordsPerSecond: 50,
        deleteAgent: 'post',
        records: {
          msgidModel: 'position',
          continuation: 'exclusive',
          responseMsgid: 'last',
          endtime: 'inclusive',
          number: 'requested',
          cursorFault: 'stall',
          visibilityLagSeconds: 30,
        },
      },
    });
  });

  it('given a reading flag with an unknown value, then starting fails with EMULATOR_OPTIONS_INVALID naming it', async () => {
    const options = optionsFromArgs(['--endtime', 'sometimes']);
    await expect(startEmulator(options)).rejects.toThrow(/wechat\.records\.endtime/);
  });

  it('given the Youmi flags, then they become Youmi options and readings; a bad reading fails at start naming it', async () => {
    const options = optionsFromArgs([
      '--youmi-fans',
      '7',
      '--youmi-late-uploads',
      '3',
      '--youmi-chat-ids',
      'fan',
      '--youmi-end-bound',
      'exclusive',
      '--youmi-time-format',
      'iso7',
      '--youmi-resvred-encoding',
      'form',
    ]);
    expect(options.youmi).toEqual({
      fansPerAccount: 7,
      lateUploads: 3,
      chatIds: 'fan',
      endBound: 'exclusive',
      timeFormat: 'iso7',
      resvredEncoding: 'form',
    });
    await expect(startEmulator(optionsFromArgs(['--youmi-chat-order', 'random']))).rejects.toThrow(/youmi\.chatOrder/);
  });

  it('given the WeCom flags, then they become WeCom options and readings; the emulator serves them; a bad reading fails at start naming it', async () => {
    const options = optionsFromArgs([
      '--wecom-accounts',
      '3',
      '--wecom-messages',
      '10',
      '--wecom-cursor-scope',
      'per-app',
      '--wecom-token-reuse',
      'first-page-only',
      '--wecom-tokenless-calls',
      '4',
      '--wecom-gettoken',
      'new-each-call',
      '--wecom-order',
      'reversed-pages',
      '--wecom-empty-pages',
      '--wecom-fewer-than-limit',
      '--wecom-expired-cursor',
      'oldest',
    ]);
    expect(options.wecom).toEqual({
      accounts: 3,
      messagesPerAccount: 10,
      readings: {
        cursorScope: 'per-app',
        tokenReuse: 'first-page-only',
        tokenlessCalls: 4,
        gettoken: 'new-each-call',
        order: 'reversed-pages',
        emptyPages: true,
        fewerThanLimit: true,
        expiredCursor: 'oldest',
      },
    });
    const emulator = await startEmulator({ ...options, seed: 'wecom-flags' });
    try {
      expect(emulator.wecom.accounts).toHaveLength(3);
    } finally {
      await emulator.stop();
    }
    await expect(startEmulator(optionsFromArgs(['--wecom-expired-cursor', 'sometimes']))).rejects.toThrow(
      /wecom: readings\.expiredCursor/,
    );
  });

  it('given a bad number or an unknown flag, then it throws EMULATOR_OPTIONS_INVALID', () => {
    expect(() => optionsFromArgs(['--port', 'abc'])).toThrow(/--port needs a number/);
    expect(() => optionsFromArgs(['--colour', 'red'])).toThrow(/colour/);
  });

  it('given a running emulator, then the banner shows its URL and every credential', async () => {
    const emulator = await startEmulator({ seed: 'banner' });
    try {
      const text = describeEmulator(emulator);
      expect(text).toContain(emulator.url);
      for (const account of emulator.wechat.accounts) expect(text).toContain(`secret=${account.secret}`);
      expect(text).toContain(emulator.youmi.clientSecret);
      expect(text).toContain(`encodingAesKey=${emulator.wecom.callback.encodingAesKey}`);
    } finally {
      await emulator.stop();
    }
  });
});

describe('kefu-emulator command', () => {
  beforeAll(() => {
    // The command runs from dist: build this package (and its references) first.
    execFileSync(`${repoDir}node_modules/.bin/tsc`, ['-b', packageDir], { cwd: repoDir, stdio: 'inherit' });
  }, 120_000);

  it('given --json, when started, then it prints URL and credentials, serves tokens, and stops on SIGTERM', async () => {
    child = spawn(process.execPath, [`${packageDir}dist/bin.js`, '--json', '--seed', 'command', '--accounts', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const printed = JSON.parse(line);
    expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const [account] = printed.wechat.accounts;
    const response = await request(
      `${printed.url}/cgi-bin/token?grant_type=client_credential&appid=${account.appId}&secret=${account.secret}`,
    );
    expect((JSON.parse(await response.body.text()) as { access_token?: string }).access_token).toBeTypeOf('string');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
