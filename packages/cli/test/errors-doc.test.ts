import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOGUES, errorsDocument, findErrorCode } from '@kefu/cli';
import { describe, expect, it } from 'vitest';

const docsPath = join(fileURLToPath(import.meta.url), '../../../../docs/errors.md');

describe('the error catalogue documentation', () => {
  it('docs/errors.md is exactly what the catalogues generate (run `pnpm run docs:errors`)', async () => {
    expect(await readFile(docsPath, 'utf8')).toBe(errorsDocument());
  });

  it('gives every code of every package a description and a fix, and no code twice', () => {
    const seen = new Set<string>();
    for (const { catalogue } of ERROR_CATALOGUES) {
      for (const [code, entry] of Object.entries(catalogue)) {
        expect(seen.has(code), code).toBe(false);
        seen.add(code);
        expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
        expect(entry.description.length, code).toBeGreaterThan(10);
        expect(entry.fix.length, code).toBeGreaterThan(10);
      }
    }
    expect(findErrorCode('WECHAT_45009')?.packageName).toBe('@kefu/wechat-mp');
  });
});
