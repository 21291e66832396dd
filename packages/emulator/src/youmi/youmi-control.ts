import { jsonBody, parseInstant } from '../control-api.js';
import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import type { YoumiReadings } from './youmi-options.js';
import type { ExpectedChatsQuery, LateUploadInput, YoumiPlatform } from './youmi-platform.js';

/**
 * The Youmi platform's control endpoints, `/__emulator/youmi/<path>` (not part of Youmi): the
 * readings of the docs' open points, late uploads, the GetChat ground truth, token revocation
 * and the v1 callback URL (set in Youmi's back office on the real platform). Bad input throws
 * EMULATOR_* errors; the control API answers them as `{"error": {"code", "message"}}`.
 */

type Endpoint = (platform: YoumiPlatform, request: EmulatorRequest) => unknown;

const ENDPOINTS: Record<string, Endpoint> = {
  'GET readings': (platform) => ({ readings: platform.readings() }),
  // setReadings validates the body: EMULATOR_YOUMI_OPTIONS_INVALID names a bad reading.
  'POST readings': (platform, request) => ({
    readings: platform.setReadings(jsonBody(request) as Omit<YoumiReadings, 'chatIds'>),
  }),
  'POST late-uploads': (platform, request) => {
    platform.addLateUpload(jsonBody(request) as LateUploadInput);
    return { scheduled: true };
  },
  'GET expected-chats': (platform, request) => ({ chats: platform.expectedChats(expectedChatsQuery(request)) }),
  'POST revoke-tokens': (platform) => ({ revoked: platform.revokeTokens() }),
  'POST v1-callback-url': (platform, request) => {
    const { url } = jsonBody(request) as { url?: unknown };
    platform.setV1CallbackUrl(typeof url === 'string' ? url : undefined);
    return { url: typeof url === 'string' ? url : null };
  },
};

/** Answers `/__emulator/youmi/<path>`, or undefined when there is no such endpoint. */
export function answerYoumiControl(
  platform: YoumiPlatform,
  request: EmulatorRequest,
  path: string,
): EmulatorResponse | undefined {
  const endpoint = ENDPOINTS[`${request.method} ${path.replace(/\/+$/, '')}`];
  return endpoint ? { status: 200, body: endpoint(platform, request) } : undefined;
}

/** `GET expected-chats?wechatId&from&to[&fansKey]` (times as unix seconds or ISO-8601, as everywhere in the control API). */
function expectedChatsQuery(request: EmulatorRequest): ExpectedChatsQuery {
  const query = request.url.searchParams;
  const fansKey = query.get('fansKey') ?? undefined;
  return {
    wechatId: Number(query.get('wechatId')),
    from: parseInstant(query.get('from'), 'from'),
    to: parseInstant(query.get('to'), 'to'),
    ...(fansKey ? { fansKey } : {}),
  };
}
