import { defineErrorCatalogue } from '@kefu/core';

/** Errors of the benchmarks (code prefix `BENCH_`). */
export const benchErrorCatalogue = {
  BENCH_OPTIONS_INVALID: {
    description: 'The benchmark command line or a worker task was not understood.',
    fix: 'Run `node dist/run-all.js --help` and pass one of the listed flags.',
  },
  BENCH_CHILD_FAILED: {
    description: 'A benchmark child process (emulator or worker) exited without reporting its result.',
    fix: 'Read the child stderr quoted in the message; rebuild with `pnpm build` if a module is missing.',
  },
  BENCH_SERVER_UNAVAILABLE: {
    description: 'A database server needed by a benchmark is not reachable.',
    fix: 'Start PostgreSQL / MySQL (scripts/services.sh) or set KEFU_TEST_POSTGRES_URL / KEFU_TEST_MYSQL_URL.',
  },
} as const;

/** Creates a typed `BENCH_*` error. */
export const benchError = defineErrorCatalogue(benchErrorCatalogue);

/** A code of {@link benchErrorCatalogue}. */
export type BenchErrorCode = keyof typeof benchErrorCatalogue;
