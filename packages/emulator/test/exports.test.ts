import { describePublicApi } from '@kefu/testkit';

// The emulator's entry: starting it, configs for kefu, its readings and knobs, its errors.
describePublicApi({
  main: {
    specifier: '@kefu/emulator',
    load: () => import('@kefu/emulator'),
    names: [
      'CONTROL_PREFIX',
      'DEFAULT_RECORD_KNOBS',
      'DEFAULT_WECHAT_KNOBS',
      'DeleteAgentMethodsSchema',
      'MSGID_BASE',
      'MSGID_STRIDE',
      'RequestLog',
      'WechatErrcode',
      'WechatRecordKnobsSchema',
      'WecomCallbackTargetSchema',
      'WecomEmulatorOptionsSchema',
      'WecomReadingsSchema',
      'describeRecordReading',
      'emulatorError',
      'emulatorErrorCatalogue',
      'kefuConfigYaml',
      'kefuProviderConfigs',
      'startEmulator',
      'wechatRecordReadings',
      'youmiRawChatSchema',
      'youmiRawFanSchema',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
