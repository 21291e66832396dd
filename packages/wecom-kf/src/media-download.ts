import type { DownloadedMedia, HttpClient, HttpResponse } from '@kefu/core';
import { TOKEN_ERRCODES, wecomKfError } from './errors.js';
import { decodePlatformResponse } from './platform-response.js';
import type { WecomTokenManager } from './token-manager.js';
import { ErrorEnvelopeSchema } from './wecom-kf-schemas.js';

/**
 * Temporary media (wecom-kf.md §6.1): `GET /cgi-bin/media/get?access_token&media_id` answers
 * the bytes, or JSON `{errcode, errmsg}`; media ids of sync_msg live 3 days. Files over
 * 20 MB must be read in `Range` chunks of at most 20 MB (else errcode 830002). A token
 * errcode refreshes the token once.
 */

/** The largest chunk media/get serves at once. */
export const MEDIA_CHUNK_BYTES = 20 * 1024 * 1024;

/** What {@link downloadWecomMedia} needs. */
export interface WecomMediaDownloadOptions {
  http: HttpClient;
  tokens: WecomTokenManager;
  corpId: string;
  mediaId: string;
  signal?: AbortSignal;
}

function isJsonAnswer(response: HttpResponse): boolean {
  const contentType = String(response.headers['content-type'] ?? '');
  return /json|text\/plain/i.test(contentType) || response.body.subarray(0, 1).toString() === '{';
}

/** Downloads one medium (see the module comment); rejects with a typed error. */
export async function downloadWecomMedia(options: WecomMediaDownloadOptions): Promise<DownloadedMedia> {
  const context = { call: 'media/get', corpId: options.corpId };
  let range: string | undefined;
  const chunks: Buffer[] = [];
  let contentType: string | undefined;
  for (let tokenRetries = 0; ; ) {
    const token = await options.tokens.getToken(options.signal);
    const response = await options.http.request({
      method: 'GET',
      path: '/cgi-bin/media/get',
      query: { access_token: token, media_id: options.mediaId },
      ...(range ? { headers: { range } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status < 400 && !isJsonAnswer(response)) {
      contentType ??= String(response.headers['content-type'] ?? '') || undefined;
      chunks.push(response.body);
      // A chunk of exactly the chunk size may have more after it.
      if (range === undefined || response.body.length < MEDIA_CHUNK_BYTES) {
        return { data: Buffer.concat(chunks), ...(contentType ? { contentType } : {}) };
      }
      range = nextRange(chunks);
      continue;
    }
    const result = decodePlatformResponse(response, ErrorEnvelopeSchema, context);
    if (result.ok) {
      throw wecomKfError('WECOM_MEDIA_INVALID', `media/get answered JSON without an error for ${options.mediaId}`, {
        details: { mediaId: options.mediaId },
      });
    }
    if (tokenRetries === 0 && TOKEN_ERRCODES.has(result.errcode)) {
      tokenRetries += 1;
      await options.tokens.invalidate(token);
      continue;
    }
    if (result.errcode === 830002 && range === undefined) {
      // Over 20 MB: read it in ranges.
      range = nextRange(chunks);
      continue;
    }
    throw result.error;
  }
}

function nextRange(chunks: readonly Buffer[]): string {
  const start = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  return `bytes=${start}-${start + MEDIA_CHUNK_BYTES - 1}`;
}
