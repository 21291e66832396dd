/**
 * The Youmi emulator's errors are entries of the one emulator catalogue (`../errors.ts`);
 * these names stay for code that imports them from the Youmi emulator.
 */
export {
  type EmulatorErrorCode as YoumiEmulatorErrorCode,
  emulatorError as youmiEmulatorError,
  emulatorErrorCatalogue as youmiEmulatorErrorCatalogue,
} from '../errors.js';
