import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type ComposedPlatform, composePlatform } from '../platform-kit.js';
import { bearerToken } from './youmi-auth.js';
import { youmiCallbackApi } from './youmi-callbacks-api.js';
import { youmiControl } from './youmi-control.js';
import { youmiCrmApi } from './youmi-crm-api.js';
import { EnvelopeFailure, headerValue, parseJsonBody, tokenRejectionText, YOUMI_ERRMSG } from './youmi-envelope.js';
import { youmiFanApi } from './youmi-fans-api.js';
import { type YoumiTestHelpers, youmiTestHelpers } from './youmi-ground-truth.js';
import { youmiMessageApi } from './youmi-messages-api.js';
import type { ResolvedYoumiOptions } from './youmi-options.js';
import { youmiReportApi } from './youmi-reports-api.js';
import { youmiSessionApi } from './youmi-sessions-api.js';
import { youmiStaffApi } from './youmi-staff-api.js';
import { type YoumiPlatformOptions, type YoumiRoute, YoumiState } from './youmi-state.js';
import { YOUMI_TOKEN_PATH } from './youmi-token-endpoint.js';
import { youmiTokenApi } from './youmi-tokens-api.js';
import { answerV1Call, YOUMI_V1_TOKEN_PATH } from './youmi-v1-api.js';

/**
 * The emulated Youmi platform (v2 + v1 API, token calls, callbacks, control endpoints),
 * composed the one way every platform is (platform-kit.ts): a {@link YoumiState}, one API area
 * per file (tokens, staff, fans, sessions, messages, reports, CRM, callbacks), the gate below,
 * and the control endpoints.
 */

export type { ExpectedChatsQuery, LateUploadInput } from './youmi-ground-truth.js';
export type { YoumiFaultSettings, YoumiPlatformOptions } from './youmi-state.js';

/** What tests need to talk to the emulated Youmi platform (`RunningEmulator['youmi']`). */
export interface YoumiEmulatorDescription extends YoumiTestHelpers {
  /** v2 API base (paths `/v2/…`). */
  baseUrl: string;
  /** The v2 token call (获取商户TOKEN), `…/connect/token`. */
  tokenUrl: string;
  /** The fixed `scope` of the token call. */
  scope: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  merchantId: string;
  wechatIds: number[];
  /** v1 credentials, its token call and the base of its data calls (`…/v1`). */
  v1: { appId: string; appKey: string; tokenUrl: string; baseUrl: string };
}

/** The emulated Youmi platform: the server's view plus the test helpers. */
export interface YoumiPlatform extends ComposedPlatform<YoumiState, YoumiRoute>, YoumiTestHelpers {
  /** Connection details, ground truth and event helpers for a server at `baseUrl`. */
  describe(baseUrl: string): YoumiEmulatorDescription;
  /** The resolved options (credentials, sizes). */
  readonly settings: Readonly<ResolvedYoumiOptions>;
}

/** Every Youmi API area, in the order they are listed in the README. */
const YOUMI_API_AREAS = [
  youmiTokenApi,
  youmiStaffApi,
  youmiFanApi,
  youmiSessionApi,
  youmiMessageApi,
  youmiReportApi,
  youmiCrmApi,
  youmiCallbackApi,
];

/** Creates the emulated Youmi platform. */
export function createYoumiPlatform(options: YoumiPlatformOptions): YoumiPlatform {
  const state = new YoumiState(options);
  const platform = composePlatform<YoumiState, YoumiRoute>({
    name: 'youmi',
    state,
    areas: YOUMI_API_AREAS,
    // Paths are matched case-insensitively, as the platform's ASP.NET routes are.
    routeKey: (path) => path.toLowerCase().replace(/\/+$/, ''),
    serve: serveYoumiRoute,
    // ASP.NET answers an unknown route with a bare 404; other paths are not Youmi's.
    unrouted: (request) =>
      /^\/v[12]\//i.test(request.url.pathname) ? { status: 404, body: Buffer.alloc(0) } : undefined,
    control: youmiControl,
    close: (s) => s.events.close(),
  });
  const helpers = youmiTestHelpers(state);
  return {
    ...platform,
    ...helpers,
    settings: state.settings,
    describe: (baseUrl) => describeYoumi(state, helpers, baseUrl),
  };
}

/** The gate: token calls answer as they are; v2 calls pass the bearer gate; v1 calls the signature gate. */
function serveYoumiRoute(route: YoumiRoute, request: EmulatorRequest, state: YoumiState): EmulatorResponse {
  if (route.api === 'token') return route.handle(request);
  if (route.api === 'v1') return answerV1Call(route, request, state.v1Api());
  // ASP.NET answers a wrong method with a bare status.
  if (request.method !== route.method) return { status: 405, body: Buffer.alloc(0) };
  const token = bearerToken(request.headers.authorization);
  const rejection = state.v2Tokens.check(token);
  if (rejection) return tokenRefused(state, tokenRejectionText(rejection));
  const tenantId = headerValue(request.headers.tenantid);
  if (tenantId !== undefined && tenantId !== '' && !state.settings.tenantIds.includes(tenantId)) {
    return state.failure(YOUMI_ERRMSG.badParameters, 'TenantId: unknown tenant (the header is for agents only)');
  }
  if (token && state.revokesNow(request.url.pathname)) {
    state.v2Tokens.revoke(token);
    return tokenRefused(state, tokenRejectionText('revoked'), 'revoked');
  }
  try {
    const body = route.method === 'POST' ? parseJsonBody(request.body) : {};
    return { status: 200, body: state.envelope(route.handle({ body, now: state.clock.now(), tenantId })) };
  } catch (error) {
    if (error instanceof EnvelopeFailure) return state.failure(error.errmsg, error.errdesc);
    throw error;
  }
}

/** A refused bearer token, as the `v2TokenRejection` reading says. */
function tokenRefused(state: YoumiState, text: string, fault?: string): EmulatorResponse {
  const response: EmulatorResponse =
    state.readings.v2TokenRejection === 'http401'
      ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: Buffer.alloc(0) }
      : state.failure(YOUMI_ERRMSG.tokenInvalid, text);
  return fault ? { ...response, fault } : response;
}

/** The `RunningEmulator.youmi` view. */
function describeYoumi(state: YoumiState, helpers: YoumiTestHelpers, baseUrl: string): YoumiEmulatorDescription {
  const base = baseUrl.replace(/\/+$/, '');
  const { settings } = state;
  return {
    baseUrl: base,
    tokenUrl: `${base}${YOUMI_TOKEN_PATH}`,
    scope: 'Ls.Qkl.PublicApi',
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    tenantId: settings.tenantIds[0] ?? '',
    merchantId: settings.merchantId,
    wechatIds: [...settings.wechatIds],
    v1: {
      appId: settings.v1AppId,
      appKey: settings.v1AppKey,
      tokenUrl: `${base}${YOUMI_V1_TOKEN_PATH}`,
      baseUrl: `${base}/v1`,
    },
    ...helpers,
  };
}
