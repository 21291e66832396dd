import { createKefu, hasCapability, isKefuPlugin, type KefuProvider, silentLogger, TOKENS } from '@kefu/core';
import { describeProvider } from '@kefu/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugin } from '../src/wechat-mp-plugin.js';
import { WechatMpProvider } from '../src/wechat-mp-provider.js';
import { beijingMidnightDaysAgo, rawKey, readAll, startWechatFixture } from './support/wechat-fixture.js';

describe('the plugin in a kefu container', () => {
  let fixture: Awaited<ReturnType<typeof startWechatFixture>>;
  beforeAll(async () => {
    fixture = await startWechatFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('is a kefu provider plugin whose config errors name the field', () => {
    expect(isKefuPlugin(plugin)).toBe(true);
    expect(plugin.kind).toBe('provider');
    const result = plugin.configSchema.safeParse({ accounts: [{ appId: 'wx1' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['accounts', 0, 'secret']);
    expect(() => new WechatMpProvider({ accounts: [] })).toThrow(/accounts/);
  });

  it('given a container, when a provider is asked for, then it lists agents and streams a day of records', async () => {
    const kefu = await createKefu({
      providers: [
        {
          use: plugin,
          id: 'wx-shop',
          config: { accounts: [fixture.account], baseUrl: fixture.emulator.wechat.baseUrl, pageSize: 20 },
        },
      ],
      logger: silentLogger,
    });
    try {
      const provider = kefu.provider('wx-shop');
      expect(kefu.container.getAll<KefuProvider>(TOKENS.Provider)).toContain(provider);
      expect(provider.platform).toBe('wechat-mp');
      expect(provider.accounts()).toEqual([fixture.appId]);
      expect(hasCapability(provider, 'agents') && hasCapability(provider, 'sessions')).toBe(true);
      if (!hasCapability(provider, 'agents')) throw new Error('unreachable');
      expect((await provider.listAgents()).length).toBe(4);
      const from = beijingMidnightDaysAgo(fixture.emulator.clock.now(), 2);
      const to = new Date(from.getTime() + 86_400_000);
      const { records } = await readAll(provider.records({ from, to }) as ReturnType<WechatMpProvider['records']>);
      const expected = fixture.emulator.wechat.expectedRecords({ appId: fixture.appId, from, to });
      expect(records.map(rawKey)).toEqual(expected.map(rawKey));
    } finally {
      await kefu.close();
    }
  });
});

describeProvider('wechat-mp', async () => {
  const fixture = await startWechatFixture({ wechat: { days: 4, recordsPerDay: 60 } });
  const provider = fixture.makeProvider({ accounts: [fixture.account], pageSize: 25 });
  const from = beijingMidnightDaysAgo(fixture.emulator.clock.now(), 3);
  return {
    provider,
    query: { from, to: new Date(from.getTime() + 2 * 86_400_000) },
    pageRequests: () => fixture.emulator.requests.count({ path: '/customservice/msgrecord/getmsglist' }),
    failingQuery: { from, to: new Date(from.getTime() + 86_400_000), account: 'wx-not-configured' },
    teardown: () => fixture.close(),
  };
});
