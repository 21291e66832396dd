import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { KefuProvider } from './provider.js';

/**
 * The media archive: where pushed media (WeChat `MediaId`s live 3 days) are kept. A store
 * is named by key (`provider/account/mediaId`); its location is known before the download,
 * so a record can link it when it is written and the file appears once downloaded.
 */

/** Where archived media go: a directory by default; an object store implements the same two calls. */
export interface MediaStore {
  /** Where `key` is (or will be) stored: a path, or a URL for an object store. */
  locationOf(key: string): string;
  /** Stores the bytes under `key` durably and atomically (never a half-written file); returns its location. */
  put(key: string, data: Buffer): Promise<string>;
}

/** Downloaded media bytes. */
export interface DownloadedMedia {
  data: Buffer;
  contentType?: string;
}

/** A provider that can download the media its records name (`media.key`). */
export interface MediaDownloadProvider extends KefuProvider {
  /** Downloads the media `key` of `account`; rejects with a KefuError (retryable when worth retrying). */
  downloadMedia(account: string, key: string, signal?: AbortSignal): Promise<DownloadedMedia>;
}

/** True when `provider` downloads media (checked by shape). */
export function hasMediaDownload(provider: KefuProvider): provider is MediaDownloadProvider {
  return typeof (provider as Partial<MediaDownloadProvider>).downloadMedia === 'function';
}

/** A key's path segments made safe for a file system (no `..`, no separators inside a segment). */
function safeSegments(key: string): string[] {
  return key.split('/').map((segment) => segment.replace(/[^A-Za-z0-9._@-]/g, '_').replace(/^\.+/, '_'));
}

/** Media files in a directory tree (`dir/provider/account/mediaId`), written 0600 through a temporary file and a rename. */
export class DirectoryMediaStore implements MediaStore {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  locationOf(key: string): string {
    return join(this.directory, ...safeSegments(key));
  }

  async put(key: string, data: Buffer): Promise<string> {
    const target = this.locationOf(key);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = `${target}.${process.pid}.${Date.now()}.part`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    return target;
  }
}
