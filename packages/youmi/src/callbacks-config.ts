import { z } from 'zod';

/** The `callbacks` block of a Youmi config. */
export const YoumiCallbacksConfigSchema = z
  .strictObject({
    /** An unguessable path segment (≥ 24 characters: letters, digits, `-`, `_`). */
    pathSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{24,128}$/, 'pathSecret is 24–128 letters, digits, - or _ (e.g. `openssl rand -hex 16`)')
      .optional(),
    /** The HMAC-SHA256 key of `X-Kefu-Signature` (≥ 16 characters). */
    hmacSecret: z.string().min(16, 'hmacSecret has at least 16 characters').optional(),
    /** Path prefix under `kefu serve` (default `/youmi/{provider id}`). */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'path is a URL path starting with /')
      .optional(),
    /** Signed requests whose timestamp is further than this from the clock are refused (default 300 s). */
    timestampWindowSeconds: z.number().int().positive().default(300),
  })
  .refine((value) => value.pathSecret !== undefined || value.hmacSecret !== undefined, {
    message: 'callbacks needs `pathSecret`, `hmacSecret` or both: Youmi does not sign callbacks',
  });
/** The validated `callbacks` block. */
export type YoumiCallbacksConfig = z.output<typeof YoumiCallbacksConfigSchema>;
/** The `callbacks` block as written (defaults not applied yet). */
export type YoumiCallbacksConfigInput = z.input<typeof YoumiCallbacksConfigSchema>;
