import type { EmulatorResponse } from '../platform.js';

/** Where the WeCom platform lives on the emulator (its `baseUrl` is `<url>/wecom-kf`). */
export const WECOM_PREFIX = '/wecom-kf';

/** A success answer: `{errcode: 0, errmsg: 'ok', …}`. */
export function ok(body: Record<string, unknown> = {}): EmulatorResponse {
  return { status: 200, body: { errcode: 0, errmsg: 'ok', ...body } };
}

/** An error answer: HTTP 200 `{errcode, errmsg}` as WeCom answers errors. */
export function fail(errcode: number, errmsg: string): EmulatorResponse {
  return { status: 200, body: { errcode, errmsg } };
}
