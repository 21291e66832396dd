export * from './child-runs.js';
export * from './describe-provider.js';
export * from './describe-sink.js';
export * from './integration-servers.js';
export * from './readme-snippets.js';
export * from './scripted-platform.js';
export * from './scripted-source.js';
export * from './tcp-proxy.js';
