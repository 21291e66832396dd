import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@kefu/source`
// export condition, so tests run without a build. Only that condition is added to
// Vite's default server conditions: adding `import` here would leak into Node's own resolution of
// externalized CommonJS dependencies (pg's `require('pg-pool')` would get ESM).
const conditions = ['@kefu/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
