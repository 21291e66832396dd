import { hash32, mulberry32, pick, stableId, unitFloat } from '../seeded-random.js';
import { chatContent, FAN_NICKNAMES, type Random, REGIONS, STAFF_NAMES } from './youmi-content.js';
import type { ResolvedYoumiOptions, ResolvedYoumiReadings } from './youmi-options.js';
import type { YoumiRawChat, YoumiRawFan } from './youmi-schemas.js';
import { formatYoumiTime, hasFraction } from './youmi-time.js';

/**
 * The Youmi emulator's deterministic data set. Every fan and every generated chat is a
 * pure function of (seed, wechatId, fan index, chat index), so an account with millions
 * of chats costs no memory and any chat can be produced in isolation.
 *
 * Chat ids follow the `chatIds` reading:
 * - `time`: one sequence per account in time order without materializing it:
 *   `id = CHAT_ID_BASE + (second − windowStart) × fansPerAccount + fanIndex`;
 * - `fan`: a block per fan, `id = (fanIndex + 1) × FAN_ID_BLOCK + n` for the fan's n-th chat.
 * Within a fan, chats fall on strictly increasing seconds and ids. Chats created at run
 * time (sent messages, simulated fan messages, late uploads) get ids above every chat of
 * their fan (and, under `time`, of their account) that exists when they are written.
 *
 * Chats are kept as {@link ChatCore} (numbers, an object resvred) and rendered at the
 * moment they are served, so the time format and the resvred encoding readings apply.
 */

/** Smallest generated chat id: ids look like the platform's (7+ digits). */
export const CHAT_ID_BASE = 1_000_000;

/** Ids per fan under the `fan` reading: room for every chat a fan can have. */
export const FAN_ID_BLOCK = 10_000_000;

/** A chat before rendering: what the platform stores. */
export interface ChatCore {
  id: number;
  wechatId: number;
  fanIndex: number;
  fromAccount: boolean;
  type: number;
  content: string;
  resvred: Record<string, unknown> | null;
  /** Chat time, ms since epoch (sub-second only when the time format has fractions). */
  timeMs: number;
  /** The last four of seven fraction digits (100 ns units), for formats with fractions. */
  ticks: number;
  updatedMs: number;
  staffCode: string | null;
  messageId: string;
}

/** One operating account (运营号). */
export interface YoumiAccount {
  wechatId: number;
  /** The account's key (`wechatKey` in GetChat). */
  wechatKey: string;
  /** The operating phone's WeChat number (`ad_wechat_nober`). */
  wechatNumber: string;
  nickname: string;
}

/** A staff member (员工). */
export interface YoumiStaff {
  staffCode: string;
  staffName: string;
  departmentId: number;
  groupId: number;
  mobile: string;
  status: 1 | 0;
}

/** A department (部门). */
export interface YoumiDepartment {
  departmentId: number;
  departmentName: string;
  parentId: number;
}

/** A staff group (组). */
export interface YoumiGroup {
  groupId: number;
  groupName: string;
  departmentId: number;
}

/** An ad (广告). */
export interface YoumiAd {
  adId: number;
  title: string;
  content: string;
  url: string;
  status: 1 | 0;
  createTime: string;
}

/**
 * A time/cursor filter on a fan's chats, as predicates on the chat's ms time and id (the
 * platform's bound readings are applied by whoever builds it). Monotone: `keepsTime` is
 * true from some time on, `keepsTimeBefore` up to some time, `keepsId` from some id on.
 */
export interface ChatFilter {
  /** Lower time bound: true when a chat at this time is kept. */
  afterStart?: (timeMs: number) => boolean;
  /** Upper time bound: true when a chat at this time is kept. */
  beforeEnd?: (timeMs: number) => boolean;
  /** Cursor: true when a chat with this id is kept. */
  aboveCursor?: (id: number) => boolean;
}

/** True when `chat` passes `filter`. */
export function chatMatches(chat: Pick<ChatCore, 'id' | 'timeMs'>, filter: ChatFilter): boolean {
  return (
    (filter.afterStart === undefined || filter.afterStart(chat.timeMs)) &&
    (filter.beforeEnd === undefined || filter.beforeEnd(chat.timeMs)) &&
    (filter.aboveCursor === undefined || filter.aboveCursor(chat.id))
  );
}

const DEPARTMENT_NAMES = ['客服部', '销售部', '售后部'];
const GROUP_SUFFIXES = ['一组', '二组'];
const STAFF_PER_GROUP = 3;
const FAN_KEY_INDEX_DIGITS = 4;

interface FanPlan {
  count: number;
  sessionSize: number;
  sessions: number;
  slotLength: number;
  gapMax: number;
}

interface TypeWeight {
  type: number;
  weight: number;
}

// Type mix per direction; every code of seed 002 appears in a default data set.
const FAN_TYPE_WEIGHTS: TypeWeight[] = [
  { type: 1, weight: 52 },
  { type: 3, weight: 9 },
  { type: 2, weight: 2 },
  { type: 4, weight: 2 },
  { type: 34, weight: 7 },
  { type: 42, weight: 1 },
  { type: 48, weight: 2 },
  { type: 49, weight: 3 },
  { type: 50, weight: 1 },
  { type: 495, weight: 1 },
  { type: 496, weight: 2 },
  { type: 1001, weight: 1 },
  { type: 4919, weight: 1 },
  { type: 4933, weight: 2 },
  { type: 4362, weight: 1 },
  { type: 7549, weight: 1 },
  { type: 8220, weight: 3 },
  { type: 9730, weight: 1 },
  { type: 10000, weight: 1 },
  { type: 10001, weight: 1 },
  { type: 10002, weight: 1 },
  { type: 10003, weight: 1 },
  { type: 10004, weight: 1 },
  { type: 10005, weight: 1 },
];
const STAFF_TYPE_WEIGHTS: TypeWeight[] = [
  { type: 1, weight: 62 },
  { type: 3, weight: 8 },
  { type: 34, weight: 2 },
  { type: 42, weight: 1 },
  { type: 49, weight: 5 },
  { type: 496, weight: 3 },
  { type: 4933, weight: 3 },
  { type: 8220, weight: 3 },
  { type: 4362, weight: 1 },
  { type: 495, weight: 1 },
  { type: 11001, weight: 2 },
  { type: 12001, weight: 1 },
];
const SYSTEM_TYPES = new Set([10000, 10001, 10002, 10003, 10004, 10005]);

function weighted(random: Random, weights: TypeWeight[]): number {
  const total = weights.reduce((sum, entry) => sum + entry.weight, 0);
  let roll = random() * total;
  for (const entry of weights) {
    roll -= entry.weight;
    if (roll < 0) return entry.type;
  }
  return weights[0]?.type ?? 1;
}

/**
 * Encodes resvred as the platform does: URL-encoded JSON (seed 002 "urlDecode解码"), or
 * null. `percent` is `encodeURIComponent` (space = `%20`); `form` is what Java's
 * `URLEncoder` and .NET's `HttpUtility.UrlEncode` write (space = `+`, plus = `%2B`).
 */
export function encodeResvred(
  resvred: Record<string, unknown> | null | undefined,
  encoding: ResolvedYoumiReadings['resvredEncoding'] = 'percent',
): string | null {
  if (!resvred) return null;
  const percent = encodeURIComponent(JSON.stringify(resvred));
  return encoding === 'form' ? percent.replace(/%20/g, '+') : percent;
}

/** A message id like the platform's: a decimal string beyond 2^53 (clients must not parse it as a number). */
export function serverMessageId(...parts: Array<string | number>): string {
  const high = BigInt((hash32(...parts, 'high') | 0x40000000) >>> 0);
  const low = BigInt(hash32(...parts, 'low'));
  return (high * 4_294_967_296n + low).toString();
}

/** The deterministic Youmi data set (accounts, organisation, fans, generated chats, ads). */
export class YoumiDataset {
  readonly accounts: YoumiAccount[];
  readonly departments: YoumiDepartment[];
  readonly groups: YoumiGroup[];
  readonly staff: YoumiStaff[];
  readonly ads: YoumiAd[];
  /** First second of the generated history. */
  readonly windowStartSecond: number;
  /** End (exclusive) of the generated history: the clock's start. */
  readonly windowEndSecond: number;
  private readonly accountsById: Map<number, YoumiAccount>;

  /** `readings` is read on every call: the platform may change them at run time. */
  constructor(
    private readonly options: ResolvedYoumiOptions,
    windowEndMs: number,
    private readonly readings: () => ResolvedYoumiReadings = () => options.readings,
  ) {
    this.windowEndSecond = Math.floor(windowEndMs / 1000);
    this.windowStartSecond = this.windowEndSecond - options.days * 86_400;
    const seed = options.seed;
    this.accounts = options.wechatIds.map((wechatId) => ({
      wechatId,
      wechatKey: `wk${stableId(16, seed, 'youmi-account-key', wechatId)}`,
      wechatNumber: `wxid_${stableId(12, seed, 'youmi-account-number', wechatId)}`,
      nickname: `${pick(['友米', '优选', '小店'], seed, 'account-name', wechatId)}客服${wechatId % 100}号`,
    }));
    this.accountsById = new Map(this.accounts.map((account) => [account.wechatId, account]));
    this.departments = DEPARTMENT_NAMES.map((departmentName, index) => ({
      departmentId: index + 1,
      departmentName,
      parentId: 0,
    }));
    this.groups = this.departments.flatMap((department) =>
      GROUP_SUFFIXES.map((suffix, index) => ({
        groupId: department.departmentId * 10 + index + 1,
        groupName: `${department.departmentName}${suffix}`,
        departmentId: department.departmentId,
      })),
    );
    this.staff = this.groups.flatMap((group) =>
      Array.from({ length: STAFF_PER_GROUP }, (_, index) => {
        const number = group.groupId * 10 + index;
        return {
          staffCode: `S${1000 + number}`,
          staffName: pick(STAFF_NAMES, seed, 'staff-name', number),
          departmentId: group.departmentId,
          groupId: group.groupId,
          mobile: `13${String(hash32(seed, 'staff-mobile', number) % 1_000_000_000).padStart(9, '0')}`,
          status: unitFloat(seed, 'staff-status', number) < 0.9 ? 1 : 0,
        } satisfies YoumiStaff;
      }),
    );
    this.ads = Array.from({ length: 12 }, (_, index) => ({
      adId: 501 + index,
      title: pick(['新人礼包', '满减活动', '会员日', '直播预告', '清仓特卖'], seed, 'ad-title', index) + (index + 1),
      content: pick(['领券立减20元🎁', '全场包邮', '第二件半价', '今晚8点不见不散'], seed, 'ad-content', index),
      url: `https://m.youmi.example/ad/${stableId(10, seed, 'ad', index)}`,
      status: index % 5 === 4 ? 0 : 1,
      createTime: formatYoumiTime((this.windowStartSecond + index * 3600 * 37) * 1000),
    }));
  }

  /** The account with this id, if served. */
  account(wechatId: number): YoumiAccount | undefined {
    return this.accountsById.get(wechatId);
  }

  /** Number of fans of every account. */
  get fanCount(): number {
    return this.options.fansPerAccount;
  }

  /** The fansKey of fan `index`: a seeded prefix plus the index (base 36), so lookups need no table. */
  fansKey(wechatId: number, index: number): string {
    const suffix = index.toString(36).padStart(FAN_KEY_INDEX_DIGITS, '0');
    return `wxid_${stableId(10, this.options.seed, 'youmi-fan', wechatId, index)}${suffix}`;
  }

  /** The fan index of a fansKey of this account, or undefined when it is not one of its fans. */
  fanIndex(wechatId: number, fansKey: string): number | undefined {
    if (!this.accountsById.has(wechatId) || !fansKey.startsWith('wxid_')) return undefined;
    const index = Number.parseInt(fansKey.slice(5 + 10), 36);
    if (!Number.isInteger(index) || index < 0 || index >= this.options.fansPerAccount) return undefined;
    return this.fansKey(wechatId, index) === fansKey ? index : undefined;
  }

  /** The fan at `index` of an account (before run-time attribution changes). */
  fan(wechatId: number, index: number): YoumiRawFan {
    const seed = this.options.seed;
    const account = this.accountsById.get(wechatId);
    const random = mulberry32(hash32(seed, 'youmi-fan-profile', wechatId, index));
    const nickname = `${FAN_NICKNAMES[Math.floor(random() * FAN_NICKNAMES.length)]}${random() < 0.3 ? index : ''}`;
    const unassigned = random() < 0.1;
    const staff = this.staff[Math.floor(random() * this.staff.length)];
    const addedDaysBefore = 1 + Math.floor(random() * 365);
    const gender = Math.floor(random() * 3) as 0 | 1 | 2;
    return {
      fansKey: this.fansKey(wechatId, index),
      nickname,
      avatar: `https://wx.qlogo.cn/mmhead/${stableId(40, seed, 'youmi-avatar', wechatId, index)}/132`,
      wechatId,
      wechatKey: account?.wechatKey ?? '',
      remark: random() < 0.4 ? `${nickname}-${['老客户', 'VIP', '待回访', '已下单'][Math.floor(random() * 4)]}` : '',
      gender,
      region: REGIONS[Math.floor(random() * REGIONS.length)] ?? '',
      staffCode: unassigned ? null : (staff?.staffCode ?? null),
      addTime: formatYoumiTime(
        (this.windowStartSecond - addedDaysBefore * 86_400 + Math.floor(random() * 86_400)) * 1000,
      ),
    };
  }

  private plan(wechatId: number, fanIndex: number): FanPlan {
    const random = mulberry32(hash32(this.options.seed, 'youmi-fan-plan', wechatId, fanIndex));
    const count = Math.max(1, Math.round(this.options.chatsPerFan * (0.25 + 1.5 * random())));
    const sessionSize = 3 + Math.floor(random() * 10);
    const sessions = Math.ceil(count / sessionSize);
    const slotLength = (this.windowEndSecond - this.windowStartSecond) / sessions;
    // A session spans at most half its slot, so sessions never overlap and seconds stay distinct.
    const gapMax = Math.max(1, Math.min(600, Math.floor((slotLength * 0.5) / Math.max(1, sessionSize - 1))));
    return { count, sessionSize, sessions, slotLength, gapMax };
  }

  /** Number of generated chats of a fan. */
  generatedChatCount(wechatId: number, fanIndex: number): number {
    return this.plan(wechatId, fanIndex).count;
  }

  /** Second (since epoch) of generated chat `index` of a fan; strictly increasing in `index`. */
  chatSecond(wechatId: number, fanIndex: number, index: number, plan = this.plan(wechatId, fanIndex)): number {
    const session = Math.floor(index / plan.sessionSize);
    const position = index % plan.sessionSize;
    const seed = this.options.seed;
    const slotStart = this.windowStartSecond + Math.floor(session * plan.slotLength);
    const slotEnd = this.windowStartSecond + Math.floor((session + 1) * plan.slotLength);
    const span = (plan.sessionSize - 1) * plan.gapMax;
    const room = Math.max(1, slotEnd - slotStart - span);
    let second = slotStart + Math.floor(unitFloat(seed, 'youmi-session', wechatId, fanIndex, session) * room);
    for (let step = 1; step <= position; step++) {
      // Mostly quick replies, sometimes long pauses: squared uniform.
      const u = unitFloat(seed, 'youmi-gap', wechatId, fanIndex, session, step);
      second += 1 + Math.floor(u * u * (plan.gapMax - 1));
    }
    return second;
  }

  /** The chat id of generated chat `index` of a fan at `second`, per the `chatIds` reading. */
  chatIdOf(second: number, fanIndex: number, index: number): number {
    return this.readings().chatIds === 'fan' ? (fanIndex + 1) * FAN_ID_BLOCK + index : this.chatIdAt(second, fanIndex);
  }

  /** Under the `time` reading: the id slot of a chat at `second` for fan `fanIndex` (ascending with time across the account). */
  chatIdAt(second: number, fanIndex: number): number {
    return CHAT_ID_BASE + (second - this.windowStartSecond) * this.options.fansPerAccount + fanIndex;
  }

  /** Sub-second part of a generated chat's time: only formats with fraction digits have one. */
  private fraction(wechatId: number, fanIndex: number, index: number): { ms: number; ticks: number } {
    if (!hasFraction(this.readings().timeFormat)) return { ms: 0, ticks: 0 };
    const hundredNanos = hash32(this.options.seed, 'youmi-fraction', wechatId, fanIndex, index) % 10_000_000;
    return { ms: Math.floor(hundredNanos / 10_000), ticks: hundredNanos % 10_000 };
  }

  /** Time (ms) of generated chat `index` of a fan; strictly increasing in `index`. */
  chatTime(wechatId: number, fanIndex: number, index: number, plan = this.plan(wechatId, fanIndex)): number {
    return this.chatSecond(wechatId, fanIndex, index, plan) * 1000 + this.fraction(wechatId, fanIndex, index).ms;
  }

  /** Generated chat `index` of a fan, before rendering. */
  generatedChat(wechatId: number, fanIndex: number, index: number, fan = this.fan(wechatId, fanIndex)): ChatCore {
    const plan = this.plan(wechatId, fanIndex);
    const second = this.chatSecond(wechatId, fanIndex, index, plan);
    const fraction = this.fraction(wechatId, fanIndex, index);
    const seed = this.options.seed;
    const random = mulberry32(hash32(seed, 'youmi-chat', wechatId, fanIndex, index));
    const firstOfSession = index % plan.sessionSize === 0;
    let fromAccount = !firstOfSession && random() < 0.55;
    let type = weighted(random, fromAccount ? STAFF_TYPE_WEIGHTS : FAN_TYPE_WEIGHTS);
    if (random() < this.options.unknownTypeRate) type = 77777;
    if (SYSTEM_TYPES.has(type)) fromAccount = false;
    const owner = fan.staffCode ? this.staff.find((s) => s.staffCode === fan.staffCode) : undefined;
    // Staff messages sent from the phone itself or by automation carry no staff code.
    const staffCode = fromAccount && owner && random() < 0.85 ? owner.staffCode : null;
    const { content, resvred } = chatContent(type, fromAccount, {
      random,
      key: `${seed}|${wechatId}|${fanIndex}|${index}`,
      fanName: fan.nickname,
      staffName: owner?.staffName ?? '客服',
    });
    const timeMs = second * 1000 + fraction.ms;
    // A few records were updated after they were written (recalled, transcribed …).
    const updatedMs = random() < 0.1 ? timeMs + (1 + Math.floor(random() * 120)) * 1000 : timeMs;
    return {
      id: this.chatIdOf(second, fanIndex, index),
      wechatId,
      fanIndex,
      fromAccount,
      type,
      content,
      resvred,
      timeMs,
      ticks: fraction.ticks,
      updatedMs,
      staffCode,
      messageId: serverMessageId(seed, 'youmi-msg', wechatId, fanIndex, index),
    };
  }

  /** Renders a chat with every field of seed 002's schema, in the current time format and resvred encoding. */
  render(chat: ChatCore, fan: YoumiRawFan = this.fan(chat.wechatId, chat.fanIndex)): YoumiRawChat {
    const readings = this.readings();
    const account = this.accountsById.get(chat.wechatId);
    return {
      ad_chatting_id: chat.id,
      ad_chatting_talter: fan.fansKey,
      ad_chatting_issend: chat.fromAccount ? 1 : 0,
      ad_chatting_resvred: encodeResvred(chat.resvred, readings.resvredEncoding),
      ad_wechat_id: chat.wechatId,
      merchantid: this.options.merchantId,
      ad_chatting_updatetime: formatYoumiTime(chat.updatedMs, readings.timeFormat, chat.ticks),
      ad_chatting_sate: chat.type,
      ad_sermsgid: chat.messageId,
      ad_chatting_time: formatYoumiTime(chat.timeMs, readings.timeFormat, chat.ticks),
      ad_chatting_content: chat.content,
      ad_staff_code: chat.staffCode,
      ad_voice_txt: null,
      ad_friend_photo: fan.avatar,
      ad_friend_name: fan.nickname,
      ad_expand: fan.staffCode ?? '',
      ad_wechat_nober: account?.wechatNumber ?? '',
    };
  }

  /**
   * Generated chats of a fan matching `filter`, in index (= id = time) order, from
   * `offset` (0-based), at most `limit`. Binary search on the monotone times and ids:
   * O(log n + limit).
   */
  generatedChats(
    wechatId: number,
    fanIndex: number,
    filter: ChatFilter,
    offset: number,
    limit: number,
    fan = this.fan(wechatId, fanIndex),
  ): { total: number; chats: ChatCore[] } {
    const plan = this.plan(wechatId, fanIndex);
    const timeAt = (index: number) => this.chatTime(wechatId, fanIndex, index, plan);
    const { afterStart, beforeEnd, aboveCursor } = filter;
    let low = afterStart === undefined ? 0 : firstIndex(plan.count, (i) => afterStart(timeAt(i)));
    if (aboveCursor !== undefined) {
      low = Math.max(
        low,
        firstIndex(plan.count, (i) =>
          aboveCursor(this.chatIdOf(this.chatSecond(wechatId, fanIndex, i, plan), fanIndex, i)),
        ),
      );
    }
    const high = beforeEnd === undefined ? plan.count : firstIndex(plan.count, (i) => !beforeEnd(timeAt(i)));
    const total = Math.max(0, high - low);
    const chats: ChatCore[] = [];
    for (let index = low + offset; index < high && chats.length < limit; index++) {
      chats.push(this.generatedChat(wechatId, fanIndex, index, fan));
    }
    return { total, chats };
  }
}

/** The first index in [0, count) where the monotone predicate holds, or count. */
function firstIndex(count: number, predicate: (index: number) => boolean): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (predicate(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
