import type { EmulatorRequest, EmulatorResponse } from '../platform.js';
import type { ApiArea } from '../platform-kit.js';
import { fail, ok, parseBody } from './wechat-answers.js';
import { WechatErrcode } from './wechat-errcodes.js';
import { StableTokenRequestSchema } from './wechat-schemas.js';
import type { WechatRoute, WechatState } from './wechat-state.js';

/**
 * Tokens: `GET /cgi-bin/token` (basic) and `POST /cgi-bin/stable_token` (stable, with
 * `force_refresh` limited to 20 a day, 30 s apart). Public routes: they check their own method
 * and meet no platform fault (a fault rule names them through `faults.pathPattern`).
 */
export const wechatTokenApi: ApiArea<WechatState, WechatRoute> = (state) => ({
  '/cgi-bin/token': { access: 'public', handle: (request, now) => basicToken(state, request, now) },
  '/cgi-bin/stable_token': { access: 'public', handle: (request, now) => stableToken(state, request, now) },
});

function basicToken(state: WechatState, request: EmulatorRequest, now: number): EmulatorResponse {
  const q = request.url.searchParams;
  if (q.get('grant_type') !== 'client_credential') return fail(WechatErrcode.invalidGrantType);
  const appId = q.get('appid');
  const secret = q.get('secret');
  if (!appId) return fail(WechatErrcode.missingAppid);
  const account = state.data.account(appId);
  if (!account) return fail(WechatErrcode.invalidAppid);
  if (!secret) return fail(WechatErrcode.missingSecret);
  if (secret !== account.secret) return fail(WechatErrcode.invalidSecret);
  return ok(state.tokens.issueBasic(account.index, now));
}

function stableToken(state: WechatState, request: EmulatorRequest, now: number): EmulatorResponse {
  if (request.method !== 'POST') return fail(WechatErrcode.requirePost);
  const body = parseBody(request, StableTokenRequestSchema);
  if ('error' in body) return body.error;
  const { grant_type, appid, secret, force_refresh } = body.value;
  if (grant_type !== 'client_credential') return fail(WechatErrcode.invalidGrantType);
  if (!appid) return fail(WechatErrcode.missingAppid);
  const account = state.data.account(appid);
  if (!account) return fail(WechatErrcode.invalidAppid);
  if (!secret) return fail(WechatErrcode.missingSecret);
  if (secret !== account.secret) return fail(WechatErrcode.invalidSecret);
  const issued = state.tokens.issueStable(account.index, now, force_refresh === true);
  return 'errcode' in issued ? fail(issued.errcode, 'force_refresh is limited to 20 per day, 30 s apart') : ok(issued);
}
