import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCatalogueMarkdown } from '@kefu/core';
import { describe, expect, it, vi } from 'vitest';
import { databaseSinkErrorCatalogue, schemaStatements } from '../src/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const guide = readFileSync(join(packageDir, '../../docs/sinks/database.md'), 'utf8');
const defaultNames = {
  schema: undefined,
  records: 'kefu_records',
  checkpoints: 'kefu_checkpoints',
  migrations: 'kefu_records_migrations',
};

/** Table rows with their cells trimmed: the formatter pads markdown tables, which changes no content. */
function tableRows(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.trimStart().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim())
        .join('|'),
    );
}

describe('README and guide', () => {
  it('list every error code exactly as the catalogue says', () => {
    const generated = tableRows(errorCatalogueMarkdown(databaseSinkErrorCatalogue)).slice(2);
    for (const document of [readme, guide]) {
      const rows = tableRows(document);
      for (const row of generated) expect(rows).toContain(row);
    }
  });

  it('show the DDL each dialect really runs', () => {
    for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) {
      const ddl = `${schemaStatements(dialect, defaultNames).join(';\n\n')};`;
      expect(readme, dialect).toContain(ddl);
    }
  });

  it('has a quick start that runs and stores the record once', async () => {
    const snippet = /<!-- quick-start[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toContain('DatabaseSink');
    const dir = join(packageDir, 'tmp');
    const file = join(dir, `readme-quick-start-${process.pid}.ts`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, snippet ?? '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(file);
      expect(log.mock.calls[0]).toEqual([1]);
      expect(log.mock.calls[1]?.[0]).toMatchObject([{ id: 'r1', text: '你好 😀' }]);
      expect(log.mock.calls[2]?.[0]).toMatchObject({ position: { msgid: 1 }, skip: 0 });
    } finally {
      log.mockRestore();
      rmSync(file, { force: true });
    }
  });
});
