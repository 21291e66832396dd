import { syncWorkersError } from './errors.js';
import { TableNameSchema } from './worker-config.js';

/** Validates a table name option, throwing WORKERS_CONFIG_INVALID naming it. */
export function parseTableName(option: string, value: string): string {
  const result = TableNameSchema.safeParse(value);
  if (result.success) return result.data;
  throw syncWorkersError(
    'WORKERS_CONFIG_INVALID',
    `\`${option}\` ${result.error.issues[0]?.message ?? 'is invalid'} (got "${value}")`,
  );
}
