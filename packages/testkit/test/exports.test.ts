import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/testkit',
    load: () => import('@kefu/testkit'),
    names: [
      'TEST_TOKEN_ENV',
      'TEST_TOKEN_KEY',
      'crashSeed',
      'createScriptedPageSource',
      'createScriptedProvider',
      'describeProvider',
      'describePublicApi',
      'describeSink',
      'describeTokenStore',
      'integrationServer',
      'kefuFailure',
      'makeRecords',
      'readmeApiNames',
      'recordingSink',
      'runKillableChild',
      'runReadmeSnippet',
      'runtimeExportNames',
      'scriptedProviderPlugin',
      'seededRandom',
      'startScriptedPlatform',
      'startTcpProxy',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
