import { jsonBody, parseInstant } from '../control-api.js';
import { emulatorError } from '../errors.js';
import type { EmulatorRequest } from '../platform.js';
import type { ControlTable } from '../platform-kit.js';
import { answerVideoDownload } from './media.js';
import type { WechatKnobsInput } from './wechat-knobs.js';
import { CustomerMessageRequestSchema } from './wechat-schemas.js';
import type { WechatState } from './wechat-state.js';

/**
 * The WeChat platform's control endpoints, `/__emulator/wechat/<path>` (not part of WeChat):
 * customers and their messages, token revocation and expiry per app id, the run-time knobs and
 * the getmsglist ground truth. Bad input throws EMULATOR_* errors; the control API answers them
 * as `{"error": {"code", "message"}}`.
 */

/** Ground-truth entries answered at most, unless `limit` says otherwise. */
const DEFAULT_TRUTH_LIMIT = 100_000;

/** The control endpoints, by `METHOD path` below `/__emulator/wechat/`. */
export const wechatControl: ControlTable<WechatState> = {
  'GET customers': {
    handle: (platform, request) => ({ customers: platform.customersOf(requiredAppId(request.url.searchParams)) }),
  },
  'POST customer-message': {
    handle: (platform, request) => {
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
  },
  'POST tokens/revoke': { handle: (platform, request) => ({ revoked: platform.revokeTokens(bodyAppId(request)) }) },
  'POST tokens/expire': { handle: (platform, request) => ({ expired: platform.expireTokens(bodyAppId(request)) }) },
  'GET knobs': { handle: (platform) => platform.knobs() },
  // setKnobs validates the body: EMULATOR_OPTIONS_INVALID names a bad knob.
  'PUT knobs': { handle: (platform, request) => platform.setKnobs(jsonBody(request) as WechatKnobsInput) },
  'GET records': { handle: (platform, request) => groundTruthAnswer(platform, request.url.searchParams) },
  // Server pushes (push-sender.ts): where an app id's pushes go, send one, and what was sent.
  'PUT push-target': { handle: (platform, request) => platform.pushes.setTarget(jsonBody(request)) },
  'POST push': { handle: (platform, request) => platform.pushes.push(jsonBody(request), request.receivedAt) },
  'POST push/resend': {
    handle: (platform, request) => platform.pushes.resend((jsonBody(request) as { id?: unknown }).id),
  },
  'GET pushes': { handle: (platform) => ({ deliveries: platform.pushes.deliveries() }) },
  // Answers its own status, headers and body (bytes).
  'GET media-video': { raw: true, handle: (platform, request) => answerVideoDownload(platform.pushes, request.url) },
};

/** `GET records?appid&from&to[&openid][&limit]`: what getmsglist serves over `[from, to)`, with msgids. */
function groundTruthAnswer(platform: WechatState, query: URLSearchParams) {
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
