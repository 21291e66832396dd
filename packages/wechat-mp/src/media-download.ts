import type { DownloadedMedia, HttpClient } from '@kefu/core';
import { z } from 'zod';
import { TOKEN_ERRCODES } from './errors.js';
import { decodePlatformResponse } from './platform-response.js';
import type { TokenManager } from './token-manager.js';

/**
 * Temporary media (wechat-push.md §6): `GET /cgi-bin/media/get?access_token&media_id`
 * answers the bytes with their Content-Type; a video answers JSON `{"video_url"}` whose
 * bytes are fetched from that URL; an error answers JSON `{errcode, errmsg}` (40007 for an
 * unknown or expired id — media live 3 days). A token errcode refreshes the token once.
 */

/** What {@link downloadWechatMedia} needs. */
export interface WechatMediaDownloadOptions {
  http: HttpClient;
  tokens: TokenManager;
  appId: string;
  mediaId: string;
  signal?: AbortSignal;
  /** Fetches a video_url (default: global fetch). */
  fetchUrl?: (url: string, signal?: AbortSignal) => Promise<Buffer>;
}

const VideoAnswerSchema = z.object({ video_url: z.string().min(1) });

async function fetchBytes(url: string, signal?: AbortSignal): Promise<Buffer> {
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok) throw new Error(`GET video_url answered HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Downloads one medium (see the module comment); rejects with a typed error. */
export async function downloadWechatMedia(options: WechatMediaDownloadOptions): Promise<DownloadedMedia> {
  const context = { call: 'media/get', appId: options.appId, now: Date.now() };
  for (let tries = 0; ; tries++) {
    const token = await options.tokens.getToken(options.signal);
    const response = await options.http.request({
      method: 'GET',
      path: '/cgi-bin/media/get',
      query: { access_token: token, media_id: options.mediaId },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const contentType = String(response.headers['content-type'] ?? '');
    const isJson = /json|text\/plain/i.test(contentType) || response.body.subarray(0, 1).toString() === '{';
    if (response.status < 400 && !isJson) return { data: response.body, contentType };
    const result = decodePlatformResponse(response, VideoAnswerSchema, context);
    if (result.ok) {
      return {
        data: await (options.fetchUrl ?? fetchBytes)(result.value.video_url, options.signal),
        contentType: 'video/mp4',
      };
    }
    if (tries === 0 && TOKEN_ERRCODES.has(result.errcode)) {
      await options.tokens.invalidate(token);
      continue;
    }
    throw result.error;
  }
}
