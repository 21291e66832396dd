import type { RunningEmulator } from './index.js';

/**
 * kefu configuration for a running emulator: the provider blocks `kefu demo` uses, and a
 * ready YAML file (`kefu-emulator --print-config`) that `kefu sync -c` runs as it is. The
 * secrets in it are the emulator's own fake ones.
 */

/** The `config` blocks of the providers, pointing at the emulator's accounts. */
export interface EmulatorProviderConfigs {
  /** For `@kefu/wechat-mp`. */
  wechat: { baseUrl: string; accounts: Array<{ appId: string; secret: string; name: string }> };
  /** For `@kefu/youmi` (v2 auth). */
  youmi: { baseUrl: string; tokenUrl: string; clientId: string; clientSecret: string; wechatIds: number[] };
  /** For `@kefu/wecom-kf`, with the app's callback Token and EncodingAESKey (`kefu serve` mounts `/wecom-kf/{corpId}`). */
  wecom: {
    baseUrl: string;
    corpId: string;
    secret: string;
    accounts: Array<{ openKfId: string }>;
    callback: { token: string; encodingAesKey: string };
  };
}

/** The provider `config` blocks for `emulator`. */
export function kefuProviderConfigs(emulator: RunningEmulator): EmulatorProviderConfigs {
  const { wechat, youmi, wecom } = emulator;
  return {
    wecom: {
      baseUrl: wecom.baseUrl,
      corpId: wecom.corpId,
      secret: wecom.secret,
      accounts: wecom.accounts.map((openKfId) => ({ openKfId })),
      callback: { ...wecom.callback },
    },
    wechat: {
      baseUrl: wechat.baseUrl,
      accounts: wechat.accounts.map(({ appId, secret, name }) => ({ appId, secret, name })),
    },
    youmi: {
      baseUrl: youmi.baseUrl,
      tokenUrl: youmi.tokenUrl,
      clientId: youmi.clientId,
      clientSecret: youmi.clientSecret,
      wechatIds: [...youmi.wechatIds],
    },
  };
}

/** Where the YAML config puts records and checkpoints (relative to the config file). */
export interface KefuConfigYamlOptions {
  /** Directory of the JSONL file sink (default `./kefu-records`). */
  recordsDir?: string;
  /** The checkpoint file (default `./.kefu/checkpoints.json`). */
  checkpointsPath?: string;
}

/**
 * A complete kefu YAML config for `emulator`: every provider (ids `wechat`, `youmi`, `wecom`), a JSONL
 * file sink and file checkpoints. Ends with YAML's document end marker `...`, so a reader of
 * the emulator's output knows the file is whole.
 */
export function kefuConfigYaml(emulator: RunningEmulator, options: KefuConfigYamlOptions = {}): string {
  const { wechat, youmi, wecom } = kefuProviderConfigs(emulator);
  // JSON strings are YAML double-quoted scalars: every value is quoted the same safe way.
  const q = (value: string | number) => JSON.stringify(value);
  const lines = [
    `# kefu config for the kefu emulator at ${emulator.url} (its own fake credentials)`,
    'providers:',
    '  - use: "@kefu/wechat-mp"',
    '    id: wechat',
    '    config:',
    `      baseUrl: ${q(wechat.baseUrl)}`,
    '      accounts:',
    ...wechat.accounts.flatMap((account) => [
      `        - appId: ${q(account.appId)}`,
      `          secret: ${q(account.secret)}`,
      `          name: ${q(account.name)}`,
    ]),
    '  - use: "@kefu/youmi"',
    '    id: youmi',
    '    config:',
    `      baseUrl: ${q(youmi.baseUrl)}`,
    `      tokenUrl: ${q(youmi.tokenUrl)}`,
    `      clientId: ${q(youmi.clientId)}`,
    `      clientSecret: ${q(youmi.clientSecret)}`,
    `      wechatIds: [${youmi.wechatIds.map(q).join(', ')}]`,
    '  - use: "@kefu/wecom-kf"',
    '    id: wecom',
    '    config:',
    `      baseUrl: ${q(wecom.baseUrl)}`,
    `      corpId: ${q(wecom.corpId)}`,
    `      secret: ${q(wecom.secret)}`,
    '      accounts:',
    ...wecom.accounts.map((account) => `        - openKfId: ${q(account.openKfId)}`),
    // kefu serve mounts /wecom-kf/{corpId}; PUT /__emulator/wecom/callback-target {url} rings it.
    '      callback:',
    `        token: ${q(wecom.callback.token)}`,
    `        encodingAesKey: ${q(wecom.callback.encodingAesKey)}`,
    'sinks:',
    '  - use: "@kefu/sink-file"',
    '    id: files',
    '    config:',
    `      dir: ${q(options.recordsDir ?? './kefu-records')}`,
    'checkpoints:',
    '  use: file',
    `  path: ${q(options.checkpointsPath ?? './.kefu/checkpoints.json')}`,
    '...',
  ];
  return `${lines.join('\n')}\n`;
}
