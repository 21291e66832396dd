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
  EMULATOR_ID_SPACE_EXHAUSTED: {
    description:
      'An account created more run-time records (sent messages, session changes, customer messages) in one emulator second than its msgid layout has room for; their ids would leave time order.',
    fix: 'Raise `wechat.liveRecordsPerSecond` (flag `--live-records-per-second`), or advance the clock between bursts.',
  },
  EMULATOR_CONTROL_NOT_FOUND: {
    description: 'A request under `/__emulator/` named no control endpoint (or used another HTTP method).',
    fix: 'Use one of the control endpoints listed in the @kefu/emulator README.',
  },
} as const;

/** Creates an @kefu/emulator error by code. */
export const emulatorError = defineErrorCatalogue(emulatorErrorCatalogue);
/** The codes of @kefu/emulator. */
export type EmulatorErrorCode = keyof typeof emulatorErrorCatalogue;
