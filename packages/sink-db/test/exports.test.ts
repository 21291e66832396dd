import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sink-db',
    load: () => import('@kefu/sink-db'),
    names: [
      'COLUMN_LIMITS',
      'DatabaseSink',
      'DatabaseSinkConfigSchema',
      'LATEST_SCHEMA_VERSION',
      'RECORD_COLUMNS',
      'RecordFilterSchema',
      'WorkerSqliteDialect',
      'databaseSinkError',
      'databaseSinkErrorCatalogue',
      'parseDatabaseUrl',
      'plugin',
      'redactDatabaseUrl',
      'schemaStatements',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
