import 'reflect-metadata';

export * from './checkpoint.js';
export * from './checkpoint-stores.js';
export * from './errors.js';
export * from './http-client.js';
export * from './kefu-config.js';
export * from './logger.js';
export * from './plugin.js';
export * from './plugin-loader.js';
export * from './provider.js';
export * from './query.js';
export * from './record.js';
export * from './record-stream.js';
export * from './redaction.js';
export * from './retry.js';
export * from './runtime.js';
export * from './sink.js';
export * from './sink-operators.js';
