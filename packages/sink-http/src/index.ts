export * from './batch-encoding.js';
export * from './dead-letter-file.js';
export * from './errors.js';
export * from './http-sink.js';
export * from './sink-http-config.js';
export { default, plugin } from './sink-http-plugin.js';
export * from './webhook-signature.js';
