import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type ComposedPlatform, composePlatform } from '../platform-kit.js';
import { wechatAgentApi } from './wechat-agents-api.js';
import { fail, unknownApi, withRequestId } from './wechat-answers.js';
import { wechatControl } from './wechat-control.js';
import type { WechatRawRecord } from './wechat-data.js';
import { WechatErrcode } from './wechat-errcodes.js';
import { wechatPlatformFault } from './wechat-faults.js';
import type { WechatKnobs, WechatKnobsInput } from './wechat-knobs.js';
import { wechatMediaApi } from './wechat-media-api.js';
import { wechatMessageApi } from './wechat-messages-api.js';
import type { WechatRecordKnobs } from './wechat-record-knobs.js';
import type { WindowEntry } from './wechat-record-window.js';
import { wechatRecordApi } from './wechat-records-api.js';
import { wechatSessionApi } from './wechat-sessions-api.js';
import { type WechatPlatformOptions, type WechatRoute, WechatState } from './wechat-state.js';
import { wechatTokenApi } from './wechat-tokens-api.js';

/**
 * The emulated WeChat Official Account customer-service platform, composed the one way every
 * platform is (platform-kit.ts): a {@link WechatState}, one API area per file (tokens, agents,
 * sessions, messages, records, media), the gate below, and the control endpoints.
 */

export { unescapeControlCharacters } from './wechat-answers.js';
export type { WechatPlatformOptions } from './wechat-state.js';

/** What `RunningEmulator.wechat` exposes. */
export interface WechatDescription {
  baseUrl: string;
  accounts: Array<{ appId: string; secret: string; name: string }>;
  /** The records getmsglist serves over any range, in API order (half-open [from, to)). */
  expectedRecords(q: { appId: string; from: Date; to: Date; openid?: string }): WechatRawRecord[];
  /** The same with each record's msgid (the account-wide id getmsglist pages on). */
  expectedEntries(q: { appId: string; from: Date; to: Date; openid?: string }): WindowEntry[];
  /** Every run-time knob in force (getmsglist readings, `kfaccount/del` forms). */
  knobs(): WechatKnobs;
  /** Changes some knobs; the others stay (EMULATOR_OPTIONS_INVALID for a bad value). */
  setKnobs(knobs: WechatKnobsInput): WechatKnobs;
  /** The getmsglist readings in force. */
  recordKnobs(): WechatRecordKnobs;
  /** Changes some getmsglist readings; the others stay (EMULATOR_OPTIONS_INVALID for a bad value). */
  setRecordKnobs(knobs: Partial<WechatRecordKnobs>): WechatRecordKnobs;
  /** Revokes every access token of an app id (40001 next); returns how many were live. */
  revokeTokens(appId: string): number;
  /** Expires every access token of an app id (42001 next); returns how many were live. */
  expireTokens(appId: string): number;
}

/** The emulated WeChat MP platform: the server's view plus the `RunningEmulator.wechat` one. */
export interface WechatPlatform extends ComposedPlatform<WechatState, WechatRoute> {
  /** The `RunningEmulator.wechat` view for a server at `baseUrl`. */
  describe(baseUrl: string): WechatDescription;
}

/** Every WeChat API area, in the order they are listed in the README. */
const WECHAT_API_AREAS = [
  wechatTokenApi,
  wechatAgentApi,
  wechatSessionApi,
  wechatMessageApi,
  wechatRecordApi,
  wechatMediaApi,
];

/** Paths under WeChat's API prefixes: an unknown one answers like the platform, not like a missing route. */
const WECHAT_API_PATH = /^\/(?:cgi-bin|customservice)(?:\/|$)/;

/** Creates the WeChat platform. */
export function createWechatPlatform(options: WechatPlatformOptions): WechatPlatform {
  const platform = composePlatform<WechatState, WechatRoute>({
    name: 'wechat',
    state: new WechatState(options),
    areas: WECHAT_API_AREAS,
    serve: async (route, request, state) => withRequestId(await serveWechatRoute(route, request, state), request),
    unrouted: (request) =>
      WECHAT_API_PATH.test(request.url.pathname) ? withRequestId(unknownApi(request), request) : undefined,
    control: wechatControl,
    close: async (state) => state.pushes.close(),
  });
  return { ...platform, describe: (baseUrl) => describeWechat(platform.state, baseUrl) };
}

/**
 * The gate: public routes (tokens) answer exempt from faults; token routes check the method,
 * then the access token, then the platform faults (wechat-faults.ts), then run.
 */
async function serveWechatRoute(
  route: WechatRoute,
  request: EmulatorRequest,
  state: WechatState,
): Promise<EmulatorResponse> {
  const now = request.receivedAt;
  if (route.access === 'public') return { ...route.handle(request, now), exemptFromFaults: true };
  const methods = typeof route.methods === 'function' ? route.methods() : route.methods;
  if (!methods.includes(request.method)) {
    const errcode = methods.includes('POST') ? WechatErrcode.requirePost : WechatErrcode.requireGet;
    return fail(errcode, `use ${methods.join(' or ')}`);
  }
  const token = request.url.searchParams.get('access_token');
  const check = state.tokens.check(token, now);
  if ('errcode' in check) return fail(check.errcode);
  const fault = wechatPlatformFault(state, request, token ?? '', now);
  if (fault) return fault;
  const account = state.accounts[check.account];
  if (!account) return fail(WechatErrcode.invalidCredential);
  return route.handle({ request, account: check.account, state: account, now });
}

/** The `RunningEmulator.wechat` view. */
function describeWechat(state: WechatState, baseUrl: string): WechatDescription {
  return {
    baseUrl,
    accounts: state.data.accounts.map(({ appId, secret, name }) => ({ appId, secret, name })),
    expectedRecords: (q) => state.expectedRecords(q),
    expectedEntries: (q) => state.groundTruth(q),
    knobs: () => state.knobs(),
    setKnobs: (knobs) => state.setKnobs(knobs),
    recordKnobs: () => state.knobs().records,
    setRecordKnobs: (records) => state.setKnobs({ records }).records,
    revokeTokens: (appId) => state.revokeTokens(appId),
    expireTokens: (appId) => state.expireTokens(appId),
  };
}
