import type { EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type ComposedPlatform, composePlatform } from '../platform-kit.js';
import { fail, WECOM_PREFIX } from './wecom-answers.js';
import { wecomControl } from './wecom-control.js';
import { wecomKfApi } from './wecom-kf-api.js';
import { wecomRecordsApi } from './wecom-records-api.js';
import { type WecomItem, type WecomRoute, WecomState } from './wecom-state.js';
import { wecomTokensApi } from './wecom-tokens-api.js';

/** The `RunningEmulator.wecom` view. */
export interface WecomDescription {
  /** The provider's `baseUrl`. */
  baseUrl: string;
  corpId: string;
  secret: string;
  /** The customer-service accounts (open_kfids). */
  accounts: readonly string[];
  /** A customer writes to `openKfId` now (an image with `image` bytes); returns the item and the callback token WeCom would send. */
  customerMessage(openKfId: string, text: string, image?: Buffer): { item: WecomItem; callbackToken: string };
  /** The items sync_msg would return for the account within the 3 days (ground truth, oldest first). */
  expectedItems(openKfId: string): WecomItem[];
  /** What kf/send_msg received. */
  sent(): readonly Record<string, unknown>[];
  /** Pages sync_msg served with a callback token (0 when never used). */
  callbackTokenUses(token: string): number;
}

/** The emulated WeCom customer-service platform. */
export interface WecomPlatform extends ComposedPlatform<WecomState, WecomRoute> {
  describe(baseUrl: string): WecomDescription;
}

/** Builds the platform (see "Adding a platform" in the README). */
export function createWecomPlatform(options: { seed: string; wecom: unknown; clock: EmulatorClock }): WecomPlatform {
  const state = new WecomState(options.seed, options.wecom, options.clock);
  const platform = composePlatform<WecomState, WecomRoute>({
    name: 'wecom',
    state,
    areas: [wecomTokensApi, wecomRecordsApi, wecomKfApi],
    serve: (route, request, current) => serveWecomRoute(route, request, current),
    unrouted: (request) =>
      request.url.pathname.startsWith(`${WECOM_PREFIX}/`) ? fail(48001, 'api forbidden: no such API') : undefined,
    control: wecomControl,
  });
  return {
    ...platform,
    describe: (baseUrl) => ({
      baseUrl: `${baseUrl}${WECOM_PREFIX}`,
      corpId: state.corpId,
      secret: state.secret,
      accounts: state.accounts,
      customerMessage: (openKfId, text, image) => {
        const item = state.addCustomerMessage(openKfId, text, image);
        return { item, callbackToken: state.issueCallbackToken(openKfId) };
      },
      expectedItems: (openKfId) => state.visible(openKfId).filter((item) => WecomState.accountOf(item) === openKfId),
      sent: () => state.sent,
      callbackTokenUses: (token) => state.callbackTokens.get(token)?.pagesServed ?? 0,
    }),
  };
}

/** The gate: the access token (40014 when unknown), the JSON body, then the route. */
function serveWecomRoute(route: WecomRoute, request: EmulatorRequest, state: WecomState): EmulatorResponse {
  if (route.access === 'public') return { ...route.handle(request, {}), exemptFromFaults: true };
  if (!state.validTokens.has(request.url.searchParams.get('access_token') ?? '')) {
    return fail(40014, 'invalid access_token');
  }
  let body: Record<string, unknown> = {};
  if (request.method === 'POST' && request.body.length > 0) {
    try {
      body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail(47001, 'data format error');
    }
  }
  return route.handle(request, body);
}
