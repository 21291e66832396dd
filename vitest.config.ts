import { configDefaults, defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@kefu/source`
// export condition, so tests run without a build. Only that condition is added to
// Vite's default server conditions: adding `import` here would leak into Node's own resolution of
// externalized CommonJS dependencies (pg's `require('pg-pool')` would get ESM).
const conditions = ['@kefu/source', 'module', 'node', 'development|production'];

// Core's tests run in worker threads: they spawn no processes and change no process-wide
// state, and the threads pool ran them faster than forks in each of four paired runs on the
// shared 2-core machine (64-191 s against 106-202 s), all passing. Every other package stays
// on forks (child processes, native drivers, servers bound per process).
const threadsPool = ['packages/core/test/**/*.test.ts', 'packages/core/src/**/*.test.ts'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'core', include: threadsPool, pool: 'threads' } },
      {
        extends: true,
        test: {
          name: 'packages',
          include: ['packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...threadsPool],
          pool: 'forks',
        },
      },
    ],
  },
});
