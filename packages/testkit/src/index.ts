export * from './integration-servers.js';
