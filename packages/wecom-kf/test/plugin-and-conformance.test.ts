import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKefu, hasCapability, isKefuPlugin, type KefuProvider, silentLogger, TOKENS } from '@kefu/core';
import { startEmulator } from '@kefu/emulator';
import { describeProvider } from '@kefu/testkit';
import { describe, expect, it } from 'vitest';
import { plugin, WecomKfProvider } from '../src/index.js';
import { startWecomFakePlatform, textItems } from './support/wecom-fake-platform.js';

const CORP = 'ww0123456789abcdef';
const SECRET = 'kf-app-secret-xyz';

describe('the plugin in a kefu container', () => {
  it('is a kefu provider plugin whose config is strict and whose errors name the field', () => {
    expect(isKefuPlugin(plugin)).toBe(true);
    expect(plugin.kind).toBe('provider');
    const missing = plugin.configSchema.safeParse({ corpId: CORP, accounts: [{ openKfId: 'wkA' }] });
    expect(missing.error?.issues[0]?.path).toEqual(['secret']);
    const typo = plugin.configSchema.safeParse({
      corpId: CORP,
      secret: SECRET,
      accounts: [{ openKfId: 'wkA' }],
      pagesize: 10,
    });
    expect(typo.success).toBe(false);
    expect(() => new WecomKfProvider({ corpId: CORP, secret: SECRET, accounts: [] })).toThrow(
      expect.objectContaining({ code: 'WECOM_CONFIG_INVALID', message: expect.stringContaining('accounts') }),
    );
    expect(
      () => new WecomKfProvider({ corpId: CORP, secret: SECRET, accounts: [{ openKfId: 'wkA' }], pageSize: 1001 }),
    ).toThrow(expect.objectContaining({ code: 'WECOM_CONFIG_INVALID' }));
  });

  it('given a container, when the provider is asked for, then it streams the records of an account and checks the app', async () => {
    const now = Math.floor(Date.now() / 1000);
    const platform = await startWecomFakePlatform({
      corpId: CORP,
      secret: SECRET,
      items: textItems('wkA', 12, now - 600),
    });
    const kefu = await createKefu({
      providers: [
        {
          use: plugin,
          id: 'kf-shop',
          config: { corpId: CORP, secret: SECRET, accounts: [{ openKfId: 'wkA' }], baseUrl: platform.url, pageSize: 5 },
        },
      ],
      logger: silentLogger,
    });
    try {
      const provider = kefu.provider('kf-shop');
      expect(kefu.container.getAll<KefuProvider>(TOKENS.Provider)).toContain(provider);
      expect(provider.platform).toBe('wecom-kf');
      expect(provider.accounts()).toEqual(['wkA']);
      expect(hasCapability(provider, 'agents') && hasCapability(provider, 'messaging')).toBe(true);
      await expect(provider.check?.()).resolves.toBeUndefined();
      const ids: string[] = [];
      for await (const page of provider.records({ from: new Date((now - 3600) * 1000), to: new Date() })) {
        ids.push(...page.records.map((record) => record.id));
      }
      expect(ids).toEqual(textItems('wkA', 12, now - 600).map((item) => item.msgid));
    } finally {
      await kefu.close();
      await platform.stop();
    }
  });
});

describe('the tokenStore config block', () => {
  it("defaults to this process's memory", () => {
    const provider = new WecomKfProvider({ corpId: CORP, secret: SECRET, accounts: [{ openKfId: 'wkA' }] });
    expect(provider.config.tokenStore).toEqual({ type: 'memory' });
    expect(
      plugin.configSchema.safeParse({
        corpId: CORP,
        secret: SECRET,
        accounts: [{ openKfId: 'wkA' }],
        tokenStore: { type: 'file', path: 'tokens.json', stalelockMs: 5 },
      }).success,
    ).toBe(false);
  });

  it('given two providers on one token file (two processes on a host), when both call the API, then one gettoken serves both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kefu-wecom-token-file-'));
    // A new token on every gettoken invalidates the previous one: a second gettoken would break the first provider.
    const platform = await startWecomFakePlatform({
      corpId: CORP,
      secret: SECRET,
      // The fake lists the accounts its items belong to.
      items: textItems('wkA', 1, Math.floor(Date.now() / 1000) - 600),
      readings: { gettoken: 'new-each-call' },
    });
    const config = {
      corpId: CORP,
      secret: SECRET,
      accounts: [{ openKfId: 'wkA' }],
      baseUrl: platform.url,
      tokenStore: { type: 'file' as const, path: 'tokens.json' },
    };
    const first = new WecomKfProvider(config, { baseDir: dir });
    const second = new WecomKfProvider(config, { baseDir: dir });
    try {
      await first.check();
      await second.check();
      await first.check();
      expect(platform.gettokenCalls).toBe(1);
      const path = join(dir, 'tokens.json');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(Object.values(JSON.parse(await readFile(path, 'utf8')))).toEqual([
        { token: 'ACCESS_TOKEN_1', expiresAt: expect.any(Number) },
      ]);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await platform.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeProvider('wecom-kf', async () => {
  const now = Math.floor(Date.now() / 1000);
  const platform = await startWecomFakePlatform({
    corpId: CORP,
    secret: SECRET,
    items: [...textItems('wkA', 60, now - 7200), ...textItems('wkB', 5, now - 7000)],
    readings: { emptyPages: true },
  });
  const provider = new WecomKfProvider({
    corpId: CORP,
    secret: SECRET,
    accounts: [{ openKfId: 'wkA' }, { openKfId: 'wkB' }],
    baseUrl: platform.url,
    pageSize: 7,
  });
  return {
    provider,
    query: { account: 'wkA', from: new Date((now - 86_400) * 1000), to: new Date((now + 60) * 1000) },
    pageRequests: () => platform.syncMsgCalls,
    failingQuery: { account: 'wk-not-configured', from: new Date((now - 86_400) * 1000), to: new Date() },
    teardown: () => platform.stop(),
  };
});

// The same kit against the emulator's WeCom platform, under the readings furthest from the doc.
describeProvider('wecom-kf on the emulator', async () => {
  const emulator = await startEmulator({
    seed: 'wecom-conformance',
    wecom: { messagesPerAccount: 60, readings: { cursorScope: 'per-app', emptyPages: true, fewerThanLimit: true } },
  });
  const { wecom } = emulator;
  const provider = new WecomKfProvider({
    corpId: wecom.corpId,
    secret: wecom.secret,
    accounts: wecom.accounts.map((openKfId) => ({ openKfId })),
    baseUrl: wecom.baseUrl,
    pageSize: 9,
  });
  const now = emulator.clock.now();
  return {
    provider,
    query: { account: wecom.accounts[0], from: new Date(now - 2 * 86_400_000), to: new Date(now + 60_000) },
    pageRequests: () => emulator.requests.count({ path: '/wecom-kf/cgi-bin/kf/sync_msg' }),
    failingQuery: { account: 'wk-not-configured', from: new Date(now - 86_400_000), to: new Date(now) },
    teardown: () => emulator.stop(),
  };
});
