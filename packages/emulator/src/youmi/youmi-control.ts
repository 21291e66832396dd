import { jsonBody, parseInstant } from '../control-api.js';
import type { EmulatorRequest } from '../platform.js';
import type { ControlTable } from '../platform-kit.js';
import { type ExpectedChatsQuery, type LateUploadInput, youmiTestHelpers } from './youmi-ground-truth.js';
import type { YoumiReadings } from './youmi-options.js';
import type { YoumiState } from './youmi-state.js';

/**
 * The Youmi platform's control endpoints, `/__emulator/youmi/<path>` (not part of Youmi): the
 * readings of the docs' open points, late uploads, the GetChat ground truth, token revocation
 * and the v1 callback URL (set in Youmi's back office on the real platform). Bad input throws
 * EMULATOR_* errors; the control API answers them as `{"error": {"code", "message"}}`.
 */

/** The control endpoints, by `METHOD path` below `/__emulator/youmi/`. */
export const youmiControl: ControlTable<YoumiState> = {
  'GET readings': { handle: (state) => ({ readings: youmiTestHelpers(state).readings() }) },
  // setReadings validates the body: EMULATOR_YOUMI_OPTIONS_INVALID names a bad reading.
  'POST readings': {
    handle: (state, request) => ({
      readings: youmiTestHelpers(state).setReadings(jsonBody(request) as Omit<YoumiReadings, 'chatIds'>),
    }),
  },
  'POST late-uploads': {
    handle: (state, request) => {
      youmiTestHelpers(state).addLateUpload(jsonBody(request) as LateUploadInput);
      return { scheduled: true };
    },
  },
  'GET expected-chats': {
    handle: (state, request) => ({ chats: youmiTestHelpers(state).expectedChats(expectedChatsQuery(request)) }),
  },
  'POST revoke-tokens': { handle: (state) => ({ revoked: youmiTestHelpers(state).revokeTokens() }) },
  'POST v1-callback-url': {
    handle: (state, request) => {
      const { url } = jsonBody(request) as { url?: unknown };
      youmiTestHelpers(state).setV1CallbackUrl(typeof url === 'string' ? url : undefined);
      return { url: typeof url === 'string' ? url : null };
    },
  },
};

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
