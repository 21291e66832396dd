import type { EmulatorClock, EmulatorRequest, EmulatorResponse } from '../platform.js';
import { type ComposedPlatform, composePlatform } from '../platform-kit.js';
import { fail, WECOM_PREFIX } from './wecom-answers.js';
import type { WecomCallbackDelivery, WecomCallbackTarget, WecomCallbackTargetInput } from './wecom-callback-sender.js';
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
  /** The app's callback Token and EncodingAESKey (what `kefu serve`'s `callback` block needs). */
  callback: { token: string; encodingAesKey: string };
  /**
   * A customer writes to `openKfId` now (an image with `image` bytes); returns the item and the
   * Token of the kf_msg_or_event callback that rings for it (sent when a callback target is set).
   */
  customerMessage(openKfId: string, text: string, image?: Buffer): { item: WecomItem; callbackToken: string };
  /** The items sync_msg would return for the account within the 3 days (ground truth, oldest first). */
  expectedItems(openKfId: string): WecomItem[];
  /** What kf/send_msg received. */
  sent(): readonly Record<string, unknown>[];
  /** Verifies `target.url` (GET with an encrypted echostr) and sends callbacks there from now on. */
  setCallbackTarget(target: WecomCallbackTargetInput): Promise<Omit<WecomCallbackTarget, 'token' | 'encodingAesKey'>>;
  /** Every callback sent, with its tries. */
  callbacks(): readonly WecomCallbackDelivery[];
  /** Resolves when every callback rung so far has finished all its tries. */
  callbacksSettled(): Promise<void>;
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
    close: async (current) => current.callbacks.close(),
  });
  return {
    ...platform,
    describe: (baseUrl) => ({
      baseUrl: `${baseUrl}${WECOM_PREFIX}`,
      corpId: state.corpId,
      secret: state.secret,
      accounts: state.accounts,
      callback: { ...state.callback },
      customerMessage: (openKfId, text, image) => state.customerWrites(openKfId, text, image),
      setCallbackTarget: async (target) => (await state.callbacks.setTarget(target)).target,
      callbacks: () => state.callbacks.deliveries(),
      callbacksSettled: () => state.callbacks.settled(),
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
