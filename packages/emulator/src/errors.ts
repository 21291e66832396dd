import { defineErrorCatalogue } from '@kefu/core/errors';

/** The error catalogue of @kefu/emulator (codes prefixed `EMULATOR_`). */
export const emulatorErrorCatalogue = {
  EMULATOR_OPTIONS_INVALID: {
    description:
      'An option passed to startEmulator (or a flag of kefu-emulator) is missing, out of range or of the wrong type.',
    fix: 'Correct the option named in the message; the package README lists every option with its range.',
  },
  EMULATOR_LISTEN_FAILED: {
    description: 'The emulator could not listen on the requested host and port.',
    fix: 'Pick a free port (or 0 for a random one) and a local address such as 127.0.0.1.',
  },
  EMULATOR_UNKNOWN_ACCOUNT: {
    description: 'A ground-truth helper was asked about an account the emulator does not serve.',
    fix: 'Use one of the appIds listed in `emulator.wechat.accounts`.',
  },
} as const;

/** Creates an @kefu/emulator error by code. */
export const emulatorError = defineErrorCatalogue(emulatorErrorCatalogue);
/** The codes of @kefu/emulator. */
export type EmulatorErrorCode = keyof typeof emulatorErrorCatalogue;
