import { kefuConfigYaml, startEmulator } from '@kefu/emulator';
import type { CliIo } from '../cli-io.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

/** Flags of `kefu emulator`. */
export interface EmulatorCommandOptions {
  port?: number;
  seed: string;
  days?: number;
  recordsPerDay?: number;
  latencyMs?: number;
  json?: boolean;
  /** Print a ready kefu YAML config instead of the description. */
  printConfig?: boolean;
}

/** Starts the emulator, prints where it is and its (fake) credentials, and runs until SIGINT/SIGTERM. */
export async function runEmulatorCommand(options: EmulatorCommandOptions, io: CliIo): Promise<ExitCodeValue> {
  const emulator = await startEmulator({
    ...(options.port === undefined ? {} : { port: options.port }),
    seed: options.seed,
    wechat: {
      ...(options.days === undefined ? {} : { days: options.days }),
      ...(options.recordsPerDay === undefined ? {} : { recordsPerDay: options.recordsPerDay }),
    },
    youmi: { ...(options.days === undefined ? {} : { days: options.days }) },
    ...(options.latencyMs === undefined ? {} : { faults: { latencyMs: options.latencyMs } }),
  });
  // These are the emulator's own fake credentials: printing them is the point of this command.
  const description = {
    url: emulator.url,
    wechat: { baseUrl: emulator.wechat.baseUrl, accounts: emulator.wechat.accounts },
    youmi: {
      baseUrl: emulator.youmi.baseUrl,
      tokenUrl: emulator.youmi.tokenUrl,
      clientId: emulator.youmi.clientId,
      clientSecret: emulator.youmi.clientSecret,
      tenantId: emulator.youmi.tenantId,
      wechatIds: emulator.youmi.wechatIds,
    },
    wecom: {
      baseUrl: emulator.wecom.baseUrl,
      corpId: emulator.wecom.corpId,
      secret: emulator.wecom.secret,
      accounts: emulator.wecom.accounts,
      callback: emulator.wecom.callback,
    },
  };
  if (options.printConfig) {
    io.stdout.write(kefuConfigYaml(emulator));
  } else if (options.json) {
    io.stdout.write(`${JSON.stringify(description)}\n`);
  } else {
    const lines = [
      `kefu emulator listening on ${emulator.url}`,
      '',
      'WeChat MP',
      `  baseUrl  ${emulator.wechat.baseUrl}`,
      ...emulator.wechat.accounts.map((a) => `  appId ${a.appId}  secret ${a.secret}  (${a.name})`),
      '',
      'Youmi',
      `  baseUrl  ${emulator.youmi.baseUrl}`,
      `  tokenUrl ${emulator.youmi.tokenUrl}`,
      `  clientId ${emulator.youmi.clientId}  clientSecret ${emulator.youmi.clientSecret}`,
      `  wechatIds ${emulator.youmi.wechatIds.join(', ')}`,
      '',
      'WeCom kf',
      `  baseUrl  ${emulator.wecom.baseUrl}`,
      `  corpId ${emulator.wecom.corpId}  secret ${emulator.wecom.secret}`,
      `  openKfIds ${emulator.wecom.accounts.join(', ')}`,
      `  callback token ${emulator.wecom.callback.token}  encodingAesKey ${emulator.wecom.callback.encodingAesKey}`,
      `  ring kefu serve: PUT ${emulator.url}/__emulator/wecom/callback-target {"url": "http://<serve>/wecom-kf/${emulator.wecom.corpId}"}`,
      '',
      'Press Ctrl+C to stop.',
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.stop();
  return ExitCode.Ok;
}
