import { jsonBody, parseInstant } from '../control-api.js';
import { emulatorError } from '../errors.js';
import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { answerVideoDownload } from './media.js';
import type { WechatKnobsInput } from './wechat-knobs.js';
import type { WechatPlatform } from './wechat-platform.js';
import { CustomerMessageRequestSchema } from './wechat-schemas.js';

/**
 * The WeChat platform's control endpoints, `/__emulator/wechat/<path>` (not part of WeChat):
 * customers and their messages, token revocation and expiry per app id, the run-time knobs and
 * the getmsglist ground truth. Bad input throws EMULATOR_* errors; the control API answers them
 * as `{"error": {"code", "message"}}`.
 */

/** Ground-truth entries answered at most, unless `limit` says otherwise. */
const DEFAULT_TRUTH_LIMIT = 100_000;

type Endpoint = (platform: WechatPlatform, request: EmulatorRequest) => unknown;

const ENDPOINTS: Record<string, Endpoint> = {
  'GET customers': (platform, request) => ({
    customers: platform.customersOf(requiredAppId(request.url.searchParams)),
  }),
  'POST customer-message': (platform, request) => {
    const body = CustomerMessageRequestSchema.safeParse(jsonBody(request));
    if (!body.success) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', 'customer-message needs {"appid", "openid", "text"?}');
    }
    const { appid, openid, text } = body.data;
    if (!platform.customerWrites(appid, openid, text, request.receivedAt)) {
      throw emulatorError('EMULATOR_OPTIONS_INVALID', `openid ${openid} is not a customer of ${appid}`);
    }
    return { ok: true };
  },
  'POST tokens/revoke': (platform, request) => ({ revoked: platform.revokeTokens(bodyAppId(request)) }),
  'POST tokens/expire': (platform, request) => ({ expired: platform.expireTokens(bodyAppId(request)) }),
  'GET knobs': (platform) => platform.knobs(),
  // setKnobs validates the body: EMULATOR_OPTIONS_INVALID names a bad knob.
  'PUT knobs': (platform, request) => platform.setKnobs(jsonBody(request) as WechatKnobsInput),
  'GET records': (platform, request) => groundTruthAnswer(platform, request.url.searchParams),
  // Server pushes (push-sender.ts): where an app id's pushes go, send one, and what was sent.
  'PUT push-target': (platform, request) => platform.pushes.setTarget(jsonBody(request)),
  'POST push': (platform, request) => platform.pushes.push(jsonBody(request), request.receivedAt),
  'POST push/resend': (platform, request) => platform.pushes.resend((jsonBody(request) as { id?: unknown }).id),
  'GET pushes': (platform) => ({ deliveries: platform.pushes.deliveries() }),
};

/** Endpoints that answer their own status, headers and body (bytes). */
const RAW_ENDPOINTS: Record<string, (platform: WechatPlatform, request: EmulatorRequest) => EmulatorResponse> = {
  'GET media-video': (platform, request) => answerVideoDownload(platform.pushes, request.url),
};

/** Answers `/__emulator/wechat/<path>`, or undefined when there is no such endpoint. */
export async function answerWechatControl(
  platform: WechatPlatform,
  request: EmulatorRequest,
  path: string,
): Promise<EmulatorResponse | undefined> {
  const raw = RAW_ENDPOINTS[`${request.method} ${path}`];
  if (raw) return raw(platform, request);
  const endpoint = ENDPOINTS[`${request.method} ${path}`];
  return endpoint ? { status: 200, body: await endpoint(platform, request) } : undefined;
}

/** `GET records?appid&from&to[&openid][&limit]`: what getmsglist serves over `[from, to)`, with msgids. */
function groundTruthAnswer(platform: WechatPlatform, query: URLSearchParams) {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_TRUTH_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `records: limit must be an integer >= 0, got "${limitText}"`);
  }
  const openid = query.get('openid');
  const entries = platform.groundTruth({
    appId: requiredAppId(query),
    from: parseInstant(query.get('from'), 'from'),
    to: parseInstant(query.get('to'), 'to'),
    ...(openid ? { openid } : {}),
    limit: limit + 1,
  });
  return {
    count: Math.min(entries.length, limit),
    truncated: entries.length > limit,
    records: entries.slice(0, limit),
  };
}

function requiredAppId(query: URLSearchParams): string {
  const appId = query.get('appid');
  if (!appId) throw emulatorError('EMULATOR_OPTIONS_INVALID', 'appid is required');
  return appId;
}

function bodyAppId(request: EmulatorRequest): string {
  const { appid } = jsonBody(request) as { appid?: unknown };
  if (typeof appid !== 'string' || appid === '') {
    throw emulatorError('EMULATOR_OPTIONS_INVALID', `${request.url.pathname} needs {"appid": "<app id>"}`);
  }
  return appid;
}
