import { readFile } from 'node:fs/promises';
import { errorCatalogueMarkdown } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { natsSinkErrorCatalogue } from '../src/index.js';

describe('README', () => {
  it('given the error catalogue, when reading the README, then its errors table is exactly the generated one', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const errors = readme.slice(readme.indexOf('## Errors'));
    expect(errors).toContain(errorCatalogueMarkdown(natsSinkErrorCatalogue));
  });
});
