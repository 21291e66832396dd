import { validatePluginConfig } from '@kefu/core';
import { parseWechatMpConfig, plugin } from '@kefu/wechat-mp';
import { describe, expect, it } from 'vitest';

const account = { appId: 'wx1234567890abcdef', secret: 'app-secret-value' };

describe('wechat-mp config: unknown keys are errors', () => {
  it('given `baseUr` instead of `baseUrl`, when parsed, then WECHAT_CONFIG_INVALID names the key and suggests `baseUrl` (the sync never falls back to the real platform host)', () => {
    expect(() => parseWechatMpConfig({ accounts: [account], baseUr: 'http://127.0.0.1:1' })).toThrow(
      expect.objectContaining({
        code: 'WECHAT_CONFIG_INVALID',
        message: expect.stringContaining('unknown key `baseUr` (did you mean `baseUrl`?)'),
      }),
    );
  });

  it('given typos inside an account and inside the token store, when loaded as a plugin, then KEFU_CONFIG_INVALID names each with its nearest key', () => {
    const config = {
      accounts: [{ appId: account.appId, secrett: account.secret }],
      tokenStore: { type: 'file', path: '/tmp/tokens.json', staleLockMS: 5 },
    };
    expect(() => validatePluginConfig(plugin, config, 'providers[0] (wechat-mp)')).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        message: expect.stringMatching(
          /config\.accounts\.0\.secrett: unknown key `secrett` \(did you mean `secret`\?\).*config\.tokenStore\.staleLockMS: unknown key `staleLockMS` \(did you mean `staleLockMs`\?\)/,
        ),
      }),
    );
  });
});
