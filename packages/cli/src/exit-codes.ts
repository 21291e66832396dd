/** Exit codes of the `kefu` command (documented in the package README). */
export const ExitCode = {
  /** Everything asked was done. */
  Ok: 0,
  /** A run failed (a target failed, a platform or sink error); the checkpoint is consistent. */
  Failed: 1,
  /** Bad input: a flag, a config value or a query; the message names the field and the fix. */
  BadInput: 2,
  /** A platform's daily quota ran out; the sync stopped cleanly and resumes on the next run. */
  QuotaExhausted: 3,
  /** Stopped by SIGINT/SIGTERM after leaving a consistent checkpoint. */
  Interrupted: 130,
} as const;
/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
