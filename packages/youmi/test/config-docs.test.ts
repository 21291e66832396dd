import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { YoumiConfigSchema } from '../src/youmi-config.js';

// docs/providers/youmi.md must document every key the config accepts (it is strict: an
// undocumented key would be one a user cannot discover, a documented one that is gone
// one they would be refused for).

/** The object schema under defaults, optionals and refinements, if any. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 10; depth++) {
    const node = current as { shape?: Record<string, z.ZodType>; def?: { innerType?: unknown; in?: unknown } };
    if (node.shape) return node.shape;
    const inner = node.def?.innerType ?? node.def?.in;
    if (!inner) return undefined;
    current = inner;
  }
  return undefined;
}

describe('docs/providers/youmi.md configuration table', () => {
  it('given the config schema, then every key, nested ones included, is in the table', async () => {
    const docs = await readFile(new URL('../../../docs/providers/youmi.md', import.meta.url), 'utf8');
    const table = docs.slice(docs.indexOf('## Configuration'), docs.indexOf('## Authentication'));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const shape = objectShape(YoumiConfigSchema) ?? {};
    expect(Object.keys(shape).length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      const row = rows.find((line) => line.split('|')[1]?.includes(`\`${key}\``));
      if (!row) missing.push(key);
      // A nested key is named in its own row (`v1.appId`) or in its parent's (`{ connectMs: … }`).
      for (const nested of Object.keys(objectShape(schema) ?? {})) {
        const named = rows.some((line) => line.includes(`\`${key}.${nested}\``) || line.includes(`${key}.${nested}`));
        if (!named && !row?.includes(nested)) missing.push(`${key}.${nested}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
