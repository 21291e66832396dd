import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sink-nats',
    load: () => import('@kefu/sink-nats'),
    names: [
      'BrokerRecordSink',
      'JetStreamRecordPublisher',
      'NatsCredentialsSchema',
      'NatsJetStreamSink',
      'NatsSinkConfigSchema',
      'default',
      'natsSinkError',
      'natsSinkErrorCatalogue',
      'parseNatsSinkConfig',
      'plugin',
      'recordMessage',
      'recordMessageId',
      'recordSubject',
      'subjectToken',
      'toNatsSinkError',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
