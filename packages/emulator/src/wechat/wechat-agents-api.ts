import type { EmulatorResponse } from '../platform.js';
import type { ApiArea } from '../platform-kit.js';
import { stableId } from '../seeded-random.js';
import { fail, ok, parseBody } from './wechat-answers.js';
import { WechatErrcode } from './wechat-errcodes.js';
import { DeleteKfAccountRequestSchema, InviteWorkerRequestSchema, KfAccountRequestSchema } from './wechat-schemas.js';
import type { WechatCall, WechatRoute, WechatState } from './wechat-state.js';

/**
 * Agents (客服账号): list, online list, add, update, invite a WeChat user, upload an avatar,
 * delete (GET or POST as the `deleteAgent` knob says: the docs show both forms).
 */

const MAX_AGENTS = 100;
const MAX_AVATAR_BYTES = 5 * 1024 * 1024;
const INVITE_LIFETIME_S = 7 * 86_400;
const PREFIX = /^[A-Za-z0-9_]{1,10}$/;
const WECHAT_USER = /^(?:wxid_[A-Za-z0-9_-]{4,30}|[A-Za-z][-_A-Za-z0-9]{5,19})$/;

/** The agent routes. */
export const wechatAgentApi: ApiArea<WechatState, WechatRoute> = (state) => {
  const route = (methods: readonly string[] | (() => readonly string[]), handle: WechatAgentHandler): WechatRoute => ({
    access: 'token',
    methods,
    handle: (call) => handle(state, call),
  });
  const deleteMethods = () => {
    const form = state.knobs().deleteAgent;
    return form === 'both' ? ['GET', 'POST'] : [form.toUpperCase()];
  };
  return {
    '/cgi-bin/customservice/getkflist': route(['GET'], kfList),
    '/cgi-bin/customservice/getonlinekflist': route(['GET'], onlineKfList),
    '/customservice/kfaccount/add': route(['POST'], addAgent),
    '/customservice/kfaccount/update': route(['POST'], updateAgent),
    '/customservice/kfaccount/inviteworker': route(['POST'], inviteWorker),
    '/customservice/kfaccount/uploadheadimg': route(['POST'], uploadHeadImg),
    '/customservice/kfaccount/del': route(deleteMethods, deleteAgent),
  };
};

type WechatAgentHandler = (state: WechatState, call: WechatCall) => EmulatorResponse | Promise<EmulatorResponse>;

function kfList(platform: WechatState, { state, now }: WechatCall): EmulatorResponse {
  const kf_list = [...state.agents.values()].map((agent) => {
    platform.settleInvite(agent, now);
    return {
      kf_account: agent.kfAccount,
      kf_nick: agent.nickname,
      kf_id: String(agent.kfId),
      kf_headimgurl: agent.headImgUrl,
      ...(agent.wechatUser ? { kf_wx: agent.wechatUser } : {}),
      ...(agent.invite
        ? {
            invite_wx: agent.invite.wechatUser,
            invite_expire_time: agent.invite.expiresAt,
            invite_status: 'waiting',
          }
        : {}),
    };
  });
  return ok({ kf_list });
}

function onlineKfList(platform: WechatState, { state, now }: WechatCall): EmulatorResponse {
  const kf_online_list = [...state.agents.values()]
    .filter((agent) => {
      platform.settleInvite(agent, now);
      return agent.wechatUser !== undefined && agent.online;
    })
    .map((agent) => ({
      kf_account: agent.kfAccount,
      status: 1,
      // A number here and a string in getkflist: the docs disagree, clients must accept both.
      kf_id: agent.kfId,
      accepted_case: [...state.sessions.values()].filter((s) => s.kfAccount === agent.kfAccount).length,
    }));
  return ok({ kf_online_list });
}

function addAgent(platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, KfAccountRequestSchema);
  if ('error' in body) return body.error;
  const { kf_account, nickname } = body.value;
  const invalid = checkAgentAccount(platform, call.account, kf_account) ?? checkNickname(nickname);
  if (invalid) return invalid;
  if (call.state.agents.has(kf_account)) return fail(WechatErrcode.kfExists);
  if (call.state.agents.size >= MAX_AGENTS) return fail(WechatErrcode.kfLimit, `at most ${MAX_AGENTS} agents`);
  const kfId = call.state.nextKfId++;
  call.state.agents.set(kf_account, { kfAccount: kf_account, kfId, nickname, headImgUrl: '', online: false });
  return ok();
}

function updateAgent(_platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, KfAccountRequestSchema);
  if ('error' in body) return body.error;
  const agent = call.state.agents.get(body.value.kf_account);
  if (!agent) return fail(WechatErrcode.invalidKfAccount);
  const invalid = checkNickname(body.value.nickname);
  if (invalid) return invalid;
  agent.nickname = body.value.nickname;
  return ok();
}

function inviteWorker(platform: WechatState, call: WechatCall): EmulatorResponse {
  const body = parseBody(call.request, InviteWorkerRequestSchema);
  if ('error' in body) return body.error;
  const agent = call.state.agents.get(body.value.kf_account);
  if (!agent) return fail(WechatErrcode.invalidKfAccount);
  platform.settleInvite(agent, call.now);
  if (agent.wechatUser) return fail(WechatErrcode.alreadyBound);
  if (agent.invite) return fail(WechatErrcode.pendingInvite);
  const user = body.value.invite_wx;
  if (!WECHAT_USER.test(user))
    return fail(WechatErrcode.invalidWechatUser, 'a WeChat id is 6-20 characters [A-Za-z0-9_-] starting with a letter');
  for (const other of call.state.agents.values()) {
    if (other.wechatUser === user) return fail(WechatErrcode.alreadyWorker);
    if (other.invite?.wechatUser === user) return fail(WechatErrcode.alreadyInvited);
  }
  agent.invite = { wechatUser: user, at: call.now, expiresAt: Math.floor(call.now / 1000) + INVITE_LIFETIME_S };
  platform.settleInvite(agent, call.now);
  return ok();
}

async function uploadHeadImg(_platform: WechatState, call: WechatCall): Promise<EmulatorResponse> {
  const kfAccount = call.request.url.searchParams.get('kf_account') ?? '';
  const agent = call.state.agents.get(kfAccount);
  if (!agent) return fail(WechatErrcode.invalidKfAccount);
  const contentType = String(call.request.headers['content-type'] ?? '');
  let media: ReturnType<FormData['get']> = null;
  try {
    // The WHATWG Request parses multipart/form-data without extra dependencies.
    const form = await new Request('http://emulator.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: call.request.body,
    }).formData();
    media = form.get('media');
  } catch {
    return fail(WechatErrcode.missingMedia, 'send multipart/form-data with a file field named "media"');
  }
  if (!media || typeof media === 'string') return fail(WechatErrcode.missingMedia, 'field "media" must be a file');
  if (media.size > MAX_AVATAR_BYTES) return fail(WechatErrcode.invalidMediaSize, 'the avatar must be at most 5 MB');
  const head = new Uint8Array(await media.slice(0, 8).arrayBuffer());
  const isJpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  const isPng = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
  if (!isJpeg && !isPng) return fail(WechatErrcode.invalidMediaType, 'only jpg and png avatars are accepted');
  agent.headImgUrl = `http://mmbiz.qpic.cn/mmbiz/${stableId(40, kfAccount, call.now, media.size)}/300?wx_fmt=${isPng ? 'png' : 'jpeg'}`;
  return ok();
}

function deleteAgent(platform: WechatState, call: WechatCall): EmulatorResponse {
  let kfAccount = call.request.url.searchParams.get('kf_account') ?? undefined;
  if (call.request.method === 'POST') {
    const body = parseBody(call.request, DeleteKfAccountRequestSchema);
    if ('error' in body) return body.error;
    kfAccount = body.value.kf_account;
  }
  if (!kfAccount || !call.state.agents.has(kfAccount)) return fail(WechatErrcode.invalidKfAccount);
  call.state.agents.delete(kfAccount);
  for (const [openid, session] of call.state.sessions) {
    if (session.kfAccount === kfAccount) platform.endSession(call.state, openid, call.now);
  }
  return ok();
}

function checkAgentAccount(platform: WechatState, account: number, kfAccount: string): EmulatorResponse | undefined {
  const wechatId = platform.data.accounts[account]?.wechatId;
  const [prefix, suffix, ...rest] = kfAccount.split('@');
  if (rest.length > 0 || !prefix || !PREFIX.test(prefix) || suffix !== wechatId) {
    return fail(
      WechatErrcode.invalidKfAccountFormat,
      `kf_account is prefix@${wechatId} with a prefix of 1-10 [A-Za-z0-9_]`,
    );
  }
  return undefined;
}

function checkNickname(nickname: string): EmulatorResponse | undefined {
  const length = [...nickname].length;
  if (length < 1 || length > 16) return fail(WechatErrcode.invalidNickname, 'nickname must be 1-16 characters');
  return undefined;
}
