import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  coreError,
  coreErrorCatalogue,
  defineErrorCatalogue,
  errorCatalogueMarkdown,
  isKefuError,
  isRetryable,
  KefuError,
  registerSecret,
} from '@kefu/core';
import { describe, expect, it } from 'vitest';

const docsPath = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/errors.md');

/** Table rows as trimmed cells, so column padding by the markdown formatter does not matter. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** The text of one `## <title>` section of docs/errors.md. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

describe('the core error catalogue', () => {
  it('has a KEFU_ code, a description and a fix for every entry', () => {
    for (const [code, entry] of Object.entries(coreErrorCatalogue)) {
      expect(code).toMatch(/^KEFU_[A-Z0-9_]+$/);
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.fix.length).toBeGreaterThan(10);
    }
  });

  it('is listed in docs/errors.md exactly as generated from the catalogue', async () => {
    const markdown = await readFile(docsPath, 'utf8');
    const core = section(markdown, '@kefu/core');
    const listed = tableRows(core).map((cells) => cells[0]);
    for (const code of Object.keys(coreErrorCatalogue)) expect(listed).toContain(`\`${code}\``);
    expect(tableRows(core)).toEqual(tableRows(errorCatalogueMarkdown(coreErrorCatalogue)));
  });

  it('leaves a section in docs/errors.md for every other package', async () => {
    const markdown = await readFile(docsPath, 'utf8');
    for (const name of ['@kefu/wechat-mp', '@kefu/youmi', '@kefu/sink-file', '@kefu/sink-http', '@kefu/sink-db']) {
      expect(markdown).toContain(`\n## ${name}\n`);
    }
  });

  it('escapes pipes in a generated table', () => {
    const table = errorCatalogueMarkdown({ X_A: { description: 'a | b', fix: 'c', retryable: true } });
    expect(table.split('\n')[2]).toBe('| `X_A` | a \\| b | c | yes |');
  });
});

describe('KefuError', () => {
  it('takes fix and retryability from the catalogue, overridable per error', () => {
    const error = coreError('KEFU_HTTP_TIMEOUT', 'slow');
    expect(error.fix).toBe(coreErrorCatalogue.KEFU_HTTP_TIMEOUT.fix);
    expect(isRetryable(error)).toBe(true);
    expect(coreError('KEFU_HTTP_TIMEOUT', 'slow', { retryable: false }).retryable).toBe(false);
  });

  it('declares package catalogues with their own codes', () => {
    const sinkError = defineErrorCatalogue({
      SINK_TEST_FULL: { description: 'The disk is full.', fix: 'Free space.', retryable: true },
    });
    const error = sinkError('SINK_TEST_FULL', 'no space left');
    expect(error).toBeInstanceOf(KefuError);
    expect(error.code).toBe('SINK_TEST_FULL');
    expect(error.retryable).toBe(true);
    expect(sinkError.catalogue.SINK_TEST_FULL.fix).toBe('Free space.');
  });

  it('redacts registered secrets and sensitive fields in message, details and JSON', () => {
    registerSecret('errors-test-secret-42');
    const error = coreError('KEFU_CONFIG_INVALID', 'bad secret errors-test-secret-42 in ?access_token=abcdef', {
      details: { password: 'hunter2-hunter2', path: 'providers[0]', note: 'errors-test-secret-42' },
    });
    const text = JSON.stringify(error.toJSON()) + error.message;
    expect(text).not.toContain('errors-test-secret-42');
    expect(text).not.toContain('abcdef');
    expect(text).not.toContain('hunter2');
    expect(error.details.path).toBe('providers[0]');
  });

  it('is recognised by shape, as errors from another copy of core are', () => {
    expect(isKefuError({ kefuError: true, code: 'X' })).toBe(true);
    expect(isKefuError(new Error('plain'))).toBe(false);
    expect(isKefuError({ code: 'X' })).toBe(false);
  });
});
