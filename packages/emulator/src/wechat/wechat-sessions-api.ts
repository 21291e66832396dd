import type { EmulatorResponse } from '../platform.js';
import type { ApiArea } from '../platform-kit.js';
import { fail, ok, parseBody, sec } from './wechat-answers.js';
import { Opercode } from './wechat-data.js';
import { WECHAT_OK, WechatErrcode } from './wechat-errcodes.js';
import { SessionRequestSchema } from './wechat-schemas.js';
import type { WechatCall, WechatRoute, WechatState } from './wechat-state.js';

/** Sessions (会话): create, close, a customer's session, an agent's sessions, the waiting queue. */
export const wechatSessionApi: ApiArea<WechatState, WechatRoute> = (state) => {
  const route = (methods: readonly string[], handle: (state: WechatState, call: WechatCall) => EmulatorResponse) =>
    ({ access: 'token', methods, handle: (call) => handle(state, call) }) satisfies WechatRoute;
  return {
    '/customservice/kfsession/create': route(['POST'], createSession),
    '/customservice/kfsession/close': route(['POST'], closeSession),
    '/customservice/kfsession/getsession': route(['GET'], getSession),
    '/customservice/kfsession/getsessionlist': route(['GET'], sessionList),
    '/customservice/kfsession/getwaitcase': route(['GET'], waitCase),
  };
};

function createSession(platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, SessionRequestSchema);
  if ('error' in body) return body.error;
  const { kf_account, openid } = body.value;
  if (!call.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
  const agent = call.state.agents.get(kf_account);
  if (!agent) return fail(WechatErrcode.invalidKfAccount);
  platform.settleInvite(agent, call.now);
  if (!agent.wechatUser) return fail(WechatErrcode.kfNotBound, 'invite a WeChat user to the agent first');
  if (!agent.online) return fail(WechatErrcode.kfOffline);
  const existing = call.state.sessions.get(openid);
  // Creating a session that already exists with the same agent succeeds (documented).
  if (existing?.kfAccount === kf_account) return ok();
  if (existing) return fail(WechatErrcode.servedByOther);
  call.state.waiting.delete(openid);
  call.state.sessions.set(openid, { kfAccount: kf_account, createdAt: call.now });
  platform.addLive(call.state, {
    openid,
    opercode: Opercode.initiated,
    text: '',
    time: sec(call.now),
    worker: kf_account,
  });
  return ok();
}

function closeSession(platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, SessionRequestSchema);
  if ('error' in body) return body.error;
  const { kf_account, openid } = body.value;
  if (!call.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
  if (!call.state.agents.has(kf_account)) return fail(WechatErrcode.invalidKfAccount);
  const session = call.state.sessions.get(openid);
  if (!session) return fail(WechatErrcode.noSession);
  if (session.kfAccount !== kf_account) return fail(WechatErrcode.servedByOther);
  platform.endSession(call.state, openid, call.now);
  return ok();
}

function getSession(_platform: WechatState, call: WechatCall): EmulatorResponse {
  const openid = call.request.url.searchParams.get('openid') ?? '';
  if (!call.state.customers.has(openid)) return fail(WechatErrcode.invalidOpenid);
  const session = call.state.sessions.get(openid);
  return ok({ ...WECHAT_OK, createtime: session ? sec(session.createdAt) : 0, kf_account: session?.kfAccount ?? '' });
}

function sessionList(_platform: WechatState, call: WechatCall): EmulatorResponse {
  const kfAccount = call.request.url.searchParams.get('kf_account') ?? '';
  if (!call.state.agents.has(kfAccount)) return fail(WechatErrcode.invalidKfAccount);
  const sessionlist = [...call.state.sessions]
    .filter(([, session]) => session.kfAccount === kfAccount)
    .map(([openid, session]) => ({ createtime: sec(session.createdAt), openid }));
  return ok({ ...WECHAT_OK, sessionlist });
}

function waitCase(_platform: WechatState, call: WechatCall): EmulatorResponse {
  // At most the 100 customers that have waited longest (seed 003).
  const waitcaselist = [...call.state.waiting]
    .sort((a, b) => a[1] - b[1])
    .slice(0, 100)
    .map(([openid, since]) => ({ latest_time: sec(since), openid }));
  return ok({ ...WECHAT_OK, count: call.state.waiting.size, waitcaselist });
}
