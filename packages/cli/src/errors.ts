import { defineErrorCatalogue } from '@kefu/core';

/** The catalogue of @kefu/cli. */
export const cliErrorCatalogue = {
  KEFU_CLI_USAGE: {
    description: 'A command-line flag has a value the command cannot use (a time, a number, a range).',
    fix: 'Correct the flag named in the message; `kefu <command> --help` lists every flag and its format.',
  },
  KEFU_CLI_DEMO_LIVE: {
    description:
      "The live part of `kefu demo` could not direct or send the emulator's pushes (the emulator answered an error, or `kefu serve` never stored an acknowledged push).",
    fix: "Run `kefu demo` again; if it repeats, report it with the message, which quotes the emulator's answer.",
  },
} as const;

/** Creates a @kefu/cli error by code. */
export const cliError = defineErrorCatalogue(cliErrorCatalogue);
