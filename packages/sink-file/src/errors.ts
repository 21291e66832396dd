import { defineErrorCatalogue } from '@kefu/core';

/** The error catalogue of @kefu/sink-file (codes `SINK_FILE_*`); `docs/sinks/file.md` lists them. */
export const fileSinkErrorCatalogue = {
  SINK_FILE_CONFIG_INVALID: {
    description: 'The file sink configuration is missing a field or has a wrong value.',
    fix: 'Correct the field named in the message (see the options table in the @kefu/sink-file README).',
  },
  SINK_FILE_OPEN_FAILED: {
    description: 'An output file or its directory could not be created or opened.',
    fix: 'Check that `dir` exists or can be created and is writable by this process, and that no path component is a file.',
    retryable: true,
  },
  SINK_FILE_WRITE_FAILED: {
    description: 'Appending a batch to an output file failed (an I/O error; a full disk is SINK_FILE_DISK_FULL).',
    fix: 'Free disk space or fix the I/O error; the partial append was rolled back and the checkpoint was not advanced.',
    retryable: true,
  },
  SINK_FILE_DISK_FULL: {
    description: "The disk (or the user's quota) holding an output file is full (ENOSPC, EDQUOT).",
    fix: 'Free space on the file system named by the path in the message (or move `dir`); the partial append was rolled back, the write is retried, and a later run resumes where the checkpoint stopped.',
    retryable: true,
  },
  SINK_FILE_SYNC_FAILED: {
    description: 'fsync of an output file failed, so the batch may not be durable.',
    fix: 'Check the disk and filesystem; the batch was not acknowledged and will be delivered again.',
    retryable: true,
  },
  SINK_FILE_FOREIGN_FILE: {
    description:
      'An existing output file was not written by kefu (for gzip: it lacks kefu member headers), so it cannot be repaired safely.',
    fix: 'Move the file named in the message away, or point `dir`/`path` elsewhere.',
  },
  SINK_FILE_BATCH_TOO_LARGE: {
    description: 'One batch serializes to more than 4 GiB, beyond what one gzip member can index.',
    fix: 'Use smaller batches (the pipeline batch size).',
  },
} as const;

/** Creates a @kefu/sink-file error by code. */
export const fileSinkError = defineErrorCatalogue(fileSinkErrorCatalogue);
/** The codes of @kefu/sink-file. */
export type FileSinkErrorCode = keyof typeof fileSinkErrorCatalogue;
