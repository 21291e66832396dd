import { defineErrorCatalogue } from '@kefu/core/errors';

/** The one error catalogue of @kefu/emulator, both platforms (codes prefixed `EMULATOR_`). */
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
  EMULATOR_ROUTE_CONFLICT: {
    description:
      'Two API areas of one emulated platform claim the same path (a bug in the emulator or in a platform being added).',
    fix: 'Give the path to one area only; each API area owns its own paths (README, "Adding a platform").',
  },
  // The Youmi platform's codes. Its platform-level failures are not thrown: they are
  // answered as Youmi envelopes (`succeed: false`, see the README's error-code table).
  EMULATOR_YOUMI_OPTIONS_INVALID: {
    description: 'The Youmi emulator options are malformed or contradictory.',
    fix: 'Correct the option named in the message (see the options table in the emulator README).',
  },
  EMULATOR_YOUMI_UNKNOWN_ACCOUNT: {
    description: 'A test helper was asked about a wechatId the emulator does not serve.',
    fix: 'Use one of `youmi.wechatIds` from the running emulator.',
  },
  EMULATOR_YOUMI_UNKNOWN_FAN: {
    description: 'A test helper was asked about a fansKey that does not belong to the given wechatId.',
    fix: 'Use a `fansKey` from `youmi.fans(wechatId)`.',
  },
  EMULATOR_YOUMI_QUERY_INVALID: {
    description: 'A ground-truth query has invalid dates or `from` after `to`.',
    fix: 'Pass valid Date objects with from <= to.',
  },
  EMULATOR_YOUMI_EVENT_INVALID: {
    description: 'An event passed to `emitYoumiEvent` has an unknown type or malformed values.',
    fix: 'Use one of fansInfoChange, fansAttributionChange, chat, rpaTaskResult with an object as values.',
  },
} as const;

/** Creates an @kefu/emulator error by code. */
export const emulatorError = defineErrorCatalogue(emulatorErrorCatalogue);
/** The codes of @kefu/emulator. */
export type EmulatorErrorCode = keyof typeof emulatorErrorCatalogue;
