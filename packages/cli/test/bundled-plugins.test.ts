import { BUNDLED_PLUGINS } from '@kefu/cli';
import { isKefuPlugin } from '@kefu/core';
import { describe, expect, it } from 'vitest';

describe('BUNDLED_PLUGINS', () => {
  it('given each lazy entry, when loaded, then it is the kefu plugin of the name a config uses', async () => {
    expect(BUNDLED_PLUGINS.map((entry) => entry.name)).toEqual([
      '@kefu/wechat-mp',
      '@kefu/youmi',
      '@kefu/wecom-kf',
      '@kefu/sink-file',
      '@kefu/sink-http',
      '@kefu/sink-db',
      '@kefu/sink-nats',
    ]);
    for (const entry of BUNDLED_PLUGINS) {
      const plugin = await entry.load();
      expect(isKefuPlugin(plugin)).toBe(true);
      expect(plugin.name).toBe(entry.name);
    }
  });
});
