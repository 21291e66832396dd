import { parseConfig } from '@kefu/core';
import { z } from 'zod';
import { fileSinkError } from './errors.js';

/** Placeholders a path template may use. */
export const PATH_PLACEHOLDERS = ['provider', 'account', 'day', 'part'] as const;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/**
 * Configuration of the file sink, as written in a config file or passed to
 * {@link FileSink}. Validated by zod; errors name the field.
 */
export const FileSinkConfigSchema = z
  .strictObject({
    /** Instance id (unique in one runtime); the plugin sets it from the config. */
    id: z
      .string()
      .min(1)
      .default('file')
      .describe('Instance id (unique in one runtime); the plugin sets it from the config.'),
    /** Base directory; relative templates resolve against it. */
    dir: z.string().min(1).describe('Base directory; relative templates resolve against it.'),
    /**
     * Path template relative to `dir` (or absolute) with `{provider}`, `{account}`, `{day}`, `{part}`.
     * Default: `{provider}/{account}/{day}.jsonl` (+ `.{part}` before the extension when `maxBytes` is set, `.gz` with gzip).
     */
    path: z
      .string()
      .min(1)
      .optional()
      .describe('Path template relative to dir (or absolute) with {provider}, {account}, {day}, {part}.'),
    /** `jsonl` (lossless, default) or `csv` (flat column set, RFC 4180). */
    format: z
      .enum(['jsonl', 'csv'])
      .default('jsonl')
      .describe('jsonl (lossless, default) or csv (flat column set, RFC 4180).'),
    /** Compress: each batch becomes one gzip member. */
    gzip: z.boolean().default(false).describe('Compress: each batch becomes one gzip member.'),
    /** Rotate to the next `{part}` when a file would grow beyond this many bytes (on disk). */
    maxBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Rotate to the next {part} when a file would grow beyond this many bytes (on disk).'),
    /** IANA time zone of `{day}` (default UTC), e.g. `Asia/Shanghai`. */
    timeZone: z
      .string()
      .refine(isTimeZone, { message: 'not an IANA time zone (e.g. UTC, Asia/Shanghai)' })
      .default('UTC'),
    /** `batch`: fsync before each write resolves (default); `interval`: one fsync per `fsyncIntervalMs` covers all writes waiting on it; `none`: unsafe on power loss. */
    fsync: z
      .enum(['batch', 'interval', 'none'])
      .default('batch')
      .describe(
        'batch: fsync before each write resolves (default); interval: one fsync per fsyncIntervalMs covers all writes waiting on it; none: unsafe on power loss.',
      ),
    /** Period of the `interval` fsync policy. */
    fsyncIntervalMs: z.number().int().positive().default(200).describe('Period of the interval fsync policy.'),
    /** Files kept open at once (least recently used are closed). */
    maxOpenFiles: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe('Files kept open at once (least recently used are closed).'),
    /** Permission bits of new files (default 0o640: records carry personal data). */
    fileMode: z
      .number()
      .int()
      .min(0)
      .max(0o777)
      .default(0o640)
      .describe('Permission bits of new files (default 0o640: records carry personal data).'),
  })
  .superRefine((config, context) => {
    if (config.path === undefined) return;
    const unknown = [...config.path.matchAll(/\{([^}]*)\}/g)]
      .map((match) => match[1] ?? '')
      .filter((name) => !(PATH_PLACEHOLDERS as readonly string[]).includes(name));
    if (unknown.length > 0)
      context.addIssue({
        code: 'custom',
        path: ['path'],
        message: `unknown placeholder {${unknown[0]}}; use ${PATH_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      });
    if (config.maxBytes !== undefined && !config.path.includes('{part}'))
      context.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'rotation by size (`maxBytes`) needs a {part} placeholder in the path template',
      });
  });

/** The file sink configuration as written (defaults optional). */
export type FileSinkConfigInput = z.input<typeof FileSinkConfigSchema>;
/** The validated file sink configuration (defaults applied). */
export type FileSinkConfig = z.output<typeof FileSinkConfigSchema>;

/** Validates a file sink configuration, throwing SINK_FILE_CONFIG_INVALID naming the field. */
export function parseFileSinkConfig(input: unknown): FileSinkConfig {
  return parseConfig(FileSinkConfigSchema, input, 'file sink config', (message, details) =>
    fileSinkError('SINK_FILE_CONFIG_INVALID', message, { details }),
  );
}

/** The default path template for a format, compression and rotation setting. */
export function defaultPathTemplate(config: Pick<FileSinkConfig, 'format' | 'gzip' | 'maxBytes'>): string {
  const part = config.maxBytes !== undefined ? '.{part}' : '';
  return `{provider}/{account}/{day}${part}.${config.format}${config.gzip ? '.gz' : ''}`;
}
