import type { ApiArea } from '../platform-kit.js';
import { hash32 } from '../seeded-random.js';
import type { YoumiAccount } from './youmi-data.js';
import { EnvelopeFailure, validateBody, YOUMI_ERRMSG } from './youmi-envelope.js';
import { activationRequestSchema, applyTakeOverRequestSchema } from './youmi-schemas.js';
import { v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';

/**
 * Sessions (会话): an agent applies to take a conversation over (applyTakeOver) or activates
 * one (ActivationConversation), which may move the fan to another staff member.
 */
export const youmiSessionApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/ChatMess/applyTakeOver': v2Post(({ body }) => applyTakeOver(state, body)),
  '/v2/ChatMess/ActivationConversation': v2Post(({ body, now }) => activate(state, body, now)),
});

/** applyTakeOver (§2.1): writes the 12001 takeover message into the fan's chat. */
function applyTakeOver(state: YoumiState, body: unknown): true {
  const request = validateBody(applyTakeOverRequestSchema, body);
  if (!request.friend_key) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchFriend, 'friend_key: no such friend');
  const wechatId = request.wechat_key
    ? state.data.accounts.find((account) => account.wechatKey === request.wechat_key)?.wechatId
    : undefined;
  if (request.wechat_key && wechatId === undefined) {
    throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, 'wechat_key: no such operating account');
  }
  const { account, index } = state.fanOrFail(request.friend_key, wechatId);
  const chat = state.store.append(account.wechatId, index, {
    fromAccount: true,
    type: 12001,
    content: '申请接管该会话',
    resvred: {
      key: request.apply_key ?? `TK${hash32(state.settings.seed, 'takeover', state.nextSequence()).toString(16)}`,
      name: request.apply_name ?? '',
      reason: request.apply_reason ?? '',
    },
  });
  state.events.emit('chat', state.render(chat));
  return true;
}

/** ActivationConversation (§2.1): without enforceAttribution only the staff member's own fans. */
function activate(state: YoumiState, body: unknown, now: number): true {
  const request = validateBody(activationRequestSchema, body);
  const account = activationAccount(state, request);
  if (!request.ad_friend_wenober)
    throw new EnvelopeFailure(YOUMI_ERRMSG.friendIdMissing, 'ad_friend_wenober: is required');
  const { index } = state.fanOrFail(request.ad_friend_wenober, account.wechatId);
  if ((request.activationType === 1 || request.activationType === 2) && !request.content) {
    throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, 'content: is required when activationType is 1 or 2');
  }
  const before = state.currentFan(account.wechatId, index).staffCode;
  const staffCode = request.staff_code ?? before;
  if (!staffCode) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchStaff, 'staff_code: the fan has no owner; name one');
  state.staffOrFail(staffCode);
  if (staffCode !== before) {
    if (request.enforceAttribution !== 1) {
      throw new EnvelopeFailure(
        YOUMI_ERRMSG.operationFailed,
        `staff_code: ${staffCode} does not own this fan (set enforceAttribution 1 to take it)`,
      );
    }
    state.staffOverrides.set(`${account.wechatId}:${index}`, staffCode);
    state.events.emit('fansAttributionChange', {
      wechatId: account.wechatId,
      fansKey: state.data.fansKey(account.wechatId, index),
      oldStaffCode: before,
      newStaffCode: staffCode,
    });
  }
  state.activations.push({ staffCode, at: now });
  return true;
}

/** The operating account an activation names, by id or by WeChat number. */
function activationAccount(
  state: YoumiState,
  request: { ad_wechat_id?: number | null | undefined; ad_original_nober?: string | null | undefined },
): YoumiAccount {
  if (request.ad_wechat_id) return state.accountOrFail(request.ad_wechat_id);
  if (request.ad_original_nober) {
    const account = state.data.accounts.find((candidate) => candidate.wechatNumber === request.ad_original_nober);
    if (!account) throw new EnvelopeFailure(YOUMI_ERRMSG.noSuchWechatId, 'ad_original_nober: no such account');
    return account;
  }
  throw new EnvelopeFailure(YOUMI_ERRMSG.accountIdMissing, 'ad_original_nober, ad_wechat_id: may not both be empty');
}
