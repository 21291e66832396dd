import { defineErrorCatalogue } from '@kefu/core/errors';

/**
 * Errors the Youmi emulator raises to its caller (bad options, bad test-helper
 * arguments). Platform-level failures are not thrown: they are answered as Youmi
 * envelopes (`succeed: false`, see the README's error-code table).
 */
export const youmiEmulatorErrorCatalogue = {
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

/** Creates an error of the Youmi emulator's catalogue. */
export const youmiEmulatorError = defineErrorCatalogue(youmiEmulatorErrorCatalogue);

/** The error codes of the Youmi emulator. */
export type YoumiEmulatorErrorCode = keyof typeof youmiEmulatorErrorCatalogue;
