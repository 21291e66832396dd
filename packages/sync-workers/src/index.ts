export {
  AccountRegistry,
  type AccountState,
  inTransaction,
  type SyncOutcomeStatus,
  type WorkAccountKey,
  type WorkAccountRow,
} from './account-registry.js';
export * from './errors.js';
export * from './fleet-admin.js';
export * from './postgres-errors.js';
export * from './postgres-token-store.js';
export * from './quota-reset.js';
export * from './sync-queue.js';
export * from './sync-worker.js';
export * from './worker-config.js';
export * from './worker-metrics.js';
export * from './worker-pool.js';
