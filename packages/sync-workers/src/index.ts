export * from './account-lease-table.js';
export * from './errors.js';
export * from './postgres-errors.js';
export * from './postgres-token-store.js';
export * from './sync-worker.js';
export * from './worker-config.js';
export * from './worker-pool.js';
