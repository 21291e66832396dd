import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sink-http',
    load: () => import('@kefu/sink-http'),
    names: [
      'CONTENT_TYPES',
      'DeadLetterFile',
      'HttpSink',
      'HttpSinkConfigSchema',
      'HttpSinkRetrySchema',
      'IDEMPOTENCY_KEY_HEADER',
      'SIGNATURE_HEADER',
      'TIMESTAMP_HEADER',
      'batchIdempotencyKey',
      'canonicalJson',
      'default',
      'encodeBatchBody',
      'httpSinkError',
      'httpSinkErrorCatalogue',
      'parseHttpSinkConfig',
      'parseRetryAfter',
      'plugin',
      'signKefuPayload',
      'verifyKefuSignature',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
