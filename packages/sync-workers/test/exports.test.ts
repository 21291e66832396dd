import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sync-workers',
    load: () => import('@kefu/sync-workers'),
    names: [
      'AccountRegistry',
      'FleetAdmin',
      'PostgresTokenStore',
      'SchemaNameSchema',
      'SyncQueue',
      'SyncWorker',
      'SyncWorkerSettingsSchema',
      'TableNameSchema',
      'WorkerMetrics',
      'deadLetterQueueOf',
      'inTransaction',
      'nextQuotaReset',
      'openWorkerPool',
      'parseSyncWorkerSettings',
      'queueNameOf',
      'singletonKeyOf',
      'syncWorkersError',
      'syncWorkersErrorCatalogue',
      'toWorkersDatabaseError',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
