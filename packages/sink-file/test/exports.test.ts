import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/sink-file',
    load: () => import('@kefu/sink-file'),
    names: [
      'CSV_COLUMNS',
      'CSV_HEADER',
      'DayFormatter',
      'FileSink',
      'FileSinkConfigSchema',
      'OutputPathTemplate',
      'PATH_PLACEHOLDERS',
      'buildGzipMember',
      'csvRow',
      'default',
      'defaultPathTemplate',
      'fileSinkError',
      'fileSinkErrorCatalogue',
      'jsonlLine',
      'parseFileSinkConfig',
      'plugin',
      'quoteCsvCell',
      'repairOutputFile',
      'validCsvPrefix',
      'validGzipPrefix',
      'validJsonlPrefix',
      'validPrefix',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
