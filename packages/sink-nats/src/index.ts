export * from './broker-record-sink.js';
export * from './errors.js';
export * from './jetstream-publisher.js';
export * from './nats-jetstream-sink.js';
export type * from './record-publisher.js';
export * from './sink-nats-config.js';
export { default, plugin } from './sink-nats-plugin.js';
export * from './subject-names.js';
