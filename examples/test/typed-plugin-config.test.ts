// Type tests: `pnpm build` type-checks this file (examples/tsconfig.json includes test/),
// so each `@ts-expect-error` below fails the build the day the misspelled key compiles.
import { createKefu, definePlugin, type PluginConfigInput, silentLogger } from '@kefu/core';
import { plugin as fileSink } from '@kefu/sink-file';
import { plugin as wechatMp } from '@kefu/wechat-mp';
import { plugin as youmi } from '@kefu/youmi';
import { ContainerModule } from 'inversify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const account = { appId: 'wx1234567890', secret: 'secret-1234567890' };

describe('typed plugin configs', () => {
  it('given a plugin object in `use`, then `config` has the type of its zod schema', () => {
    expectTypeOf<PluginConfigInput<typeof wechatMp>>().toHaveProperty('accounts');
    expectTypeOf<PluginConfigInput<typeof wechatMp>>().not.toHaveProperty('acounts');
    // A package name is resolved at run time: its config is checked then, not here.
    expectTypeOf<PluginConfigInput<'@kefu/wechat-mp'>>().toBeUnknown();
  });

  it('given a misspelled config key, then createKefu does not compile (and the runtime refuses it too)', async () => {
    const misspelled = () =>
      createKefu({
        logger: silentLogger,
        providers: [
          {
            use: wechatMp,
            // @ts-expect-error `acounts` is not a key of the WeChat config (`accounts` is)
            config: { acounts: [account] },
          },
        ],
      });
    await expect(misspelled()).rejects.toMatchObject({ code: 'KEFU_CONFIG_INVALID' });
  });

  it('given several plugins in one list, then each entry is checked against its own plugin, not a union', () => {
    const build = () =>
      createKefu({
        providers: [
          { use: wechatMp, config: { accounts: [account] } },
          // @ts-expect-error WeChat's `accounts` shape is not a Youmi config
          { use: youmi, config: { accounts: [account] } },
        ],
        sinks: [
          // @ts-expect-error the file sink has `dir`, not `directory`
          { use: fileSink, config: { directory: './archive' } },
          { use: '@kefu/sink-http', config: { anything: 'checked at run time' } },
        ],
      });
    expectTypeOf(build).returns.resolves.toHaveProperty('providers');
  });

  it('given a plugin defined with definePlugin, then its config type comes from its schema', () => {
    const plugin = definePlugin({
      name: '@acme/provider',
      kind: 'provider',
      configSchema: z.strictObject({ endpoint: z.string(), pageSize: z.number().default(50) }),
      module: (config) => {
        expectTypeOf(config).toEqualTypeOf<{ endpoint: string; pageSize: number }>();
        return new ContainerModule(() => {});
      },
    });
    expectTypeOf<PluginConfigInput<typeof plugin>>().toEqualTypeOf<{ endpoint: string; pageSize?: number }>();
    const build = () =>
      createKefu({
        // @ts-expect-error `pageSise` is misspelled
        providers: [{ use: plugin, config: { endpoint: 'https://acme.example', pageSise: 10 } }],
      });
    expectTypeOf(build).toBeFunction();
  });
});
