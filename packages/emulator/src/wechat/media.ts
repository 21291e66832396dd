import { createHash } from 'node:crypto';
import type { EmulatorRequest, EmulatorResponse } from '../platform.js';

/**
 * Temporary media (wechat-push.md §6): `GET /cgi-bin/media/get?access_token&media_id`
 * answers the bytes with their `Content-Type` and `Content-disposition: attachment;
 * filename="MEDIA_ID.ext"`; a video answers JSON `{"video_url": …}`; an unknown or expired
 * id (after 3 days) answers `{"errcode":40007,"errmsg":"invalid media_id"}`. The bytes are
 * derived from the id, so a test can check what it downloaded.
 */

/** Media live 3 days ("媒体文件在微信后台保存时间为3天"). */
export const MEDIA_LIFETIME_MS = 3 * 24 * 3600 * 1000;

interface StoredMedia {
  kind: 'image' | 'voice' | 'video';
  createdAt: number;
}

const stores = new WeakMap<object, Map<string, StoredMedia>>();

function storeOf(owner: object): Map<string, StoredMedia> {
  let store = stores.get(owner);
  if (!store) {
    store = new Map();
    stores.set(owner, store);
  }
  return store;
}

/** Registers a pushed medium and returns its media id. */
export function storeMedia(owner: object, kind: StoredMedia['kind'], msgId: string, nowMs: number): string {
  const mediaId = `emu_${kind}_${msgId}`;
  storeOf(owner).set(mediaId, { kind, createdAt: nowMs });
  return mediaId;
}

/** The bytes the emulator serves for a media id (a JPEG or AMR header, then bytes derived from the id). */
export function mediaBytes(mediaId: string, kind: 'image' | 'voice' | 'video'): Buffer {
  const magic = {
    image: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    voice: Buffer.from('#!AMR\n', 'latin1'),
    video: Buffer.from('\0\0\0\x18ftypmp42', 'latin1'),
  }[kind];
  const blocks = Array.from({ length: 64 }, (_, i) => createHash('sha256').update(`${mediaId}/${i}`).digest());
  return Buffer.concat([magic, ...blocks]);
}

/** Answers `GET /cgi-bin/media/get` (the access token was checked by the platform). */
export function answerMediaGet(owner: object, request: EmulatorRequest, nowMs: number): EmulatorResponse {
  const url = request.url;
  const mediaId = url.searchParams.get('media_id') ?? '';
  const stored = storeOf(owner).get(mediaId);
  if (!stored || nowMs - stored.createdAt > MEDIA_LIFETIME_MS) {
    return { status: 200, body: { errcode: 40007, errmsg: 'invalid media_id' } };
  }
  if (stored.kind === 'video') {
    // The download URL is the emulator's own, at the Host the call came to (a CDN link in the real platform).
    const origin = `http://${request.headers.host ?? '127.0.0.1'}`;
    return { status: 200, body: { video_url: `${origin}/__emulator/wechat/media-video?media_id=${mediaId}` } };
  }
  const extension = stored.kind === 'image' ? 'jpg' : 'amr';
  return {
    status: 200,
    headers: {
      'content-type': stored.kind === 'image' ? 'image/jpeg' : 'audio/amr',
      'content-disposition': `attachment; filename="${mediaId}.${extension}"`,
    },
    body: mediaBytes(mediaId, stored.kind),
  };
}

/** The bytes behind a video's `video_url` (`GET /__emulator/wechat/media-video?media_id`). */
export function answerVideoDownload(owner: object, url: URL): EmulatorResponse {
  const mediaId = url.searchParams.get('media_id') ?? '';
  if (storeOf(owner).get(mediaId)?.kind !== 'video') return { status: 404, body: { error: 'no such video' } };
  return { status: 200, headers: { 'content-type': 'video/mp4' }, body: mediaBytes(mediaId, 'video') };
}
