import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sync-workers',
    load: () => import('@kefu/sync-workers'),
    names: [
      'AccountLeaseTable',
      'PostgresTokenStore',
      'SyncWorker',
      'SyncWorkerSettingsSchema',
      'TableNameSchema',
      'inTransaction',
      'openWorkerPool',
      'parseSyncWorkerSettings',
      'syncWorkersError',
      'syncWorkersErrorCatalogue',
      'toWorkersDatabaseError',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
