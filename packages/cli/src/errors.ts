import { defineErrorCatalogue } from '@kefu/core';

/** The catalogue of @kefu/cli. */
export const cliErrorCatalogue = {
  KEFU_CLI_USAGE: {
    description: 'A command-line flag has a value the command cannot use (a time, a number, a range).',
    fix: 'Correct the flag named in the message; `kefu <command> --help` lists every flag and its format.',
  },
} as const;

/** Creates a @kefu/cli error by code. */
export const cliError = defineErrorCatalogue(cliErrorCatalogue);
