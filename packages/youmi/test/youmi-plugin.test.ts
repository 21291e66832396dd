import {
  type HttpClientFactory,
  isKefuPlugin,
  type KefuProvider,
  silentLogger,
  TOKENS,
  undiciHttpClientFactory,
} from '@kefu/core';
import { Container } from 'inversify';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { plugin, YoumiConfigSchema, YoumiProvider } from '../src/index.js';
import { parseYoumiConfig } from '../src/youmi-config.js';
import { startYoumiEmulator, type YoumiEmulator } from './support/youmi-emulator.js';

let running: YoumiEmulator | undefined;
afterEach(async () => {
  await running?.emulator.stop();
  running = undefined;
});

const base = {
  baseUrl: 'https://open.example.com',
  clientId: 'ym_client',
  clientSecret: 'secret-value',
  wechatIds: [10001],
};

describe('youmi config', () => {
  it('given only the required keys, then the documented token URL and scope are the defaults', () => {
    const config = parseYoumiConfig(base);
    expect(config).toMatchObject({
      tokenUrl: 'https://sso.yunshouzhi.net/connect/token',
      scope: 'Ls.Qkl.PublicApi',
      fanConcurrency: 4,
      pageSize: 100,
      timeZoneOffsetMinutes: 480,
    });
    expect(config.v1).toBeUndefined();
  });

  it('given v1 credentials, then the documented public v1 token URL is the default', () => {
    const config = parseYoumiConfig({
      ...base,
      v1: { appId: '73289537', appKey: 'key-1234', baseUrl: 'http://10.0.0.1:5003/v1' },
    });
    expect(config.v1).toEqual({
      appId: '73289537',
      appKey: 'key-1234',
      baseUrl: 'http://10.0.0.1:5003/v1',
      tokenUrl: 'http://api10.agsoft.net:5001/publicapi/v1/GetAccessToken',
    });
  });

  it.each([
    [{ ...base, baseUrl: 'open.example.com' }, 'baseUrl'],
    [{ ...base, clientSecret: undefined }, 'clientSecret'],
    [{ ...base, wechatIds: [] }, 'wechatIds'],
    [{ ...base, wechatIds: [1, 1] }, 'wechatIds'],
    [{ ...base, auth: 'v1' }, '(root)'],
    [{ ...base, v1: { appId: '1', appKey: 'key-1234' } }, 'v1.baseUrl'],
    [{ ...base, fanConcurrency: 0 }, 'fanConcurrency'],
    [{ ...base, tokenUrl: 'ftp://sso/token' }, 'tokenUrl'],
    [{ ...base, surprise: true }, '(root)'],
  ])('refuses a bad config naming the field (%#: %s)', (input, field) => {
    expect(() => parseYoumiConfig(input)).toThrow(
      expect.objectContaining({ code: 'YOUMI_CONFIG_INVALID', details: expect.objectContaining({ field }) }),
    );
  });

  it('never shows the client secret in a config error', () => {
    const error = (() => {
      try {
        new YoumiProvider({ ...base, clientSecret: 'do-not-print-me', wechatIds: [0] });
      } catch (caught) {
        return caught;
      }
    })();
    expect(JSON.stringify(error)).not.toContain('do-not-print-me');
  });
});

describe('youmi plugin', () => {
  it('is a provider plugin whose module binds a YoumiProvider that reads the emulator', async () => {
    running = await startYoumiEmulator({ fansPerAccount: 3, chatsPerFan: 5, days: 1 });
    expect(isKefuPlugin(plugin)).toBe(true);
    expect(plugin).toMatchObject({ name: '@kefu/youmi', kind: 'provider' });
    const config = YoumiConfigSchema.parse(running.config());
    let created = 0;
    const httpClients: HttpClientFactory = {
      create: (options) => {
        created += 1;
        return undiciHttpClientFactory.create(options);
      },
    };
    const container = new Container();
    container.load(
      plugin.module(config, {
        instanceId: 'youmi-east',
        baseDir: '.',
        logger: silentLogger,
        httpClients,
      }),
    );
    const [provider] = container.getAll<KefuProvider>(TOKENS.Provider);
    expect(provider).toBeInstanceOf(YoumiProvider);
    expect(provider?.id).toBe('youmi-east');
    // The API host and the token host (one origin on the emulator, two in production).
    expect(created).toBe(2);
    const records = await firstValueFrom(
      (provider as KefuProvider).records({ from: running.start - 86_400_000, to: running.start }).pipe(toArray()),
    );
    expect(records.length).toBeGreaterThan(0);
    await provider?.close();
  });
});
