import type { ApiArea } from '../platform-kit.js';
import { EnvelopeFailure, validateBody, YOUMI_ERRMSG } from './youmi-envelope.js';
import { fansCountRequestSchema, fansListRequestSchema, v1AddFriendRequestSchema } from './youmi-schemas.js';
import { v1Route, v2Post, type YoumiRoute, type YoumiState } from './youmi-state.js';
import { formatYoumiTime } from './youmi-time.js';

/**
 * Customers: fans (好友) and the operating accounts they belong to, in v2 (GetFansList,
 * GetFansCount, §2.4) and v1 (运营号配置, 读取好友, 添加好友, §3).
 */
export const youmiFanApi: ApiArea<YoumiState, YoumiRoute> = (state) => ({
  '/v2/Friend/GetFansList': v2Post(({ body }) => fansPage(state, body)),
  '/v2/Friend/GetFansCount': v2Post(({ body }) => {
    const query = validateBody(fansCountRequestSchema, body);
    const accounts = query.wechatId === undefined ? state.data.accounts : [state.accountOrFail(query.wechatId)];
    return accounts.reduce(
      (sum, account) =>
        sum + state.matchingFans(account.wechatId, query.fansKe ?? undefined, query.fansName ?? undefined).length,
      0,
    );
  }),
  // 运营号配置 (§3): the operating accounts, optionally one kind (0 personal, 3 WeCom).
  '/v1/WeCaht': v1Route('GET', (query) => v1Accounts(state, query)),
  // 读取好友 (§3): every parameter optional; without any, the first 20 friends.
  '/v1/friend': v1Route('GET', (query) => v1Friends(state, query)),
  // 添加好友 (§3): queued (no sffcode) or assigned; answers values: true.
  '/v1/friend/Add_Friend': v1Route('POST', (_query, body) => {
    const request = validateBody(v1AddFriendRequestSchema, body);
    const account = state.accountOrFail(Number(request.ReceiVerId));
    if (request.sffcode) state.staffOrFail(request.sffcode);
    state.v1Friends.push({
      mobile: request.Wechat_Moble,
      greeting: request.GreeTing,
      pcKid: request.PcKid,
      wechatId: account.wechatId,
    });
    return true;
  }),
});

/** One GetFansList page in the `fansListShape` reading (the response was not seen, §2.4). */
function fansPage(state: YoumiState, body: unknown): Array<Record<string, unknown>> {
  const query = validateBody(fansListRequestSchema, body);
  const account = state.accountOrFail(query.wechatId);
  const indexes = state.pageOf(
    state.matchingFans(account.wechatId, query.fansKe ?? undefined, query.fansName ?? undefined),
    query.pageIndex,
    query.pageSize,
  );
  return indexes.map((index) => {
    const fan = state.currentFan(account.wechatId, index);
    if (state.readings.fansListShape === 'camel') {
      return {
        fansKey: fan.fansKey,
        fansName: fan.nickname,
        avatar: fan.avatar,
        wechatId: fan.wechatId,
        wechatKey: fan.wechatKey,
        remark: fan.remark,
        staffCode: fan.staffCode,
        addTime: fan.addTime,
      };
    }
    return {
      ad_relation_id: account.wechatId * 1_000_000 + index + 1,
      ad_wechat_id: account.wechatId,
      ad_relation_talter: fan.fansKey,
      ad_relation_nick: fan.nickname,
      ad_relation_remark: fan.remark,
      ad_relation_photo: fan.avatar,
      ad_relation_scene: [3, 15, 17, 30][index % 4],
      ad_relation_addtime: fan.addTime,
      ad_relation_state: 0,
      ad_staff_code: fan.staffCode,
    };
  });
}

function v1Accounts(state: YoumiState, query: URLSearchParams) {
  const kind = query.get('ad_wechat_lei');
  if (kind !== null && kind !== '' && kind !== '0') return [];
  return state.data.accounts.map((account) => ({
    ad_wechat_id: account.wechatId,
    ad_wechat_nober: account.wechatNumber,
    ad_wechat_nick: account.nickname,
    ad_wechat_qrcode: `https://res.youmi.example/qr/${account.wechatKey}.png`,
    ad_wechat_addtime: formatYoumiTime(state.data.windowStartSecond * 1000, state.readings.timeFormat),
    ad_original_nober: account.wechatNumber,
    ad_wechat_usercode: account.wechatKey,
    ad_wechat_lei: 0,
  }));
}

function v1Friends(state: YoumiState, query: URLSearchParams) {
  const integer = (name: string, fallback: number) => {
    const value = query.get(name);
    if (value === null || value === '') return fallback;
    if (!/^-?\d+$/.test(value)) throw new EnvelopeFailure(YOUMI_ERRMSG.badParameters, `${name}: must be an integer`);
    return Number(value);
  };
  const wechatId = integer('Wechat_id', 0);
  const accounts = wechatId === 0 ? state.data.accounts : [state.accountOrFail(wechatId)];
  const friends = accounts.flatMap((account) =>
    state.fanIndexes().map((index) => {
      const fan = state.currentFan(account.wechatId, index);
      return {
        ad_friend_id: account.wechatId * 1_000_000 + index + 1,
        ad_friend_uwenober: fan.fansKey,
        ad_friend_wenober: fan.fansKey,
        username: fan.nickname,
        avatar: fan.avatar,
        ad_wechat_id: account.wechatId,
        ad_staff_code: fan.staffCode,
      };
    }),
  );
  return state.pageOf(friends, integer('Page', 1), integer('PageSize', 20));
}
