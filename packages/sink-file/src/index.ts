export * from './crash-repair.js';
export * from './errors.js';
export * from './file-sink.js';
export * from './gzip-members.js';
export { DayFormatter, OutputPathTemplate, type OutputPathValues } from './output-path-template.js';
export * from './record-serializers.js';
export * from './sink-file-config.js';
export { default, plugin } from './sink-file-plugin.js';
