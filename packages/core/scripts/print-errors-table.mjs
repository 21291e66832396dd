// Prints the @kefu/core section table of docs/errors.md from the catalogue.
// Usage: pnpm tsc -b packages/core && node packages/core/scripts/print-errors-table.mjs
import { coreErrorCatalogue, errorCatalogueMarkdown } from '../dist/index.js';

process.stdout.write(`${errorCatalogueMarkdown(coreErrorCatalogue)}\n`);
