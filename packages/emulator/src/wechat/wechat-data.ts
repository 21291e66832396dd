import { createHash } from 'node:crypto';
import { hash32, stableId, unitFloat } from '../seeded-random.js';
import type { DeleteAgentMethods } from './wechat-knobs.js';
import type { WechatRecordKnobs } from './wechat-record-knobs.js';

/**
 * The WeChat accounts' seeded data. Nothing is materialized: a record at (account, day,
 * index) is a pure function of the seed, a day's record count is a pure function (cached,
 * a few numbers per account), so a 10 M-record account costs no memory.
 *
 * A day's records are laid out in blocks of ten, one customer-service session each:
 * session start (1000 waiting or 1002 agent-initiated), 2001 message received by the
 * account, 1001 accepted or 1005 grabbed, six chat messages alternating 2002 (agent sent)
 * and 2003 (agent received), 1004 closed. Times ascend with the index, so (time, index)
 * order is index order and the 2002/2003 subset of any index range is countable in O(1).
 */

/** Options of the WeChat platform (all optional). */
export interface WechatEmulatorOptions {
  /** Number of official accounts (default 2). */
  accounts?: number;
  /** Seeded agents per account, all bound; the last one is offline (default 5, max 100). */
  agentsPerAccount?: number;
  /** Customers (openids) per account (default 200). */
  customers?: number;
  /** Days of history, ending with the clock's current day in Asia/Shanghai (default 30). */
  days?: number;
  /** Average records per day per account; quiet days and bursts vary around it (default 200). */
  recordsPerDay?: number;
  /** Every day has exactly `recordsPerDay` records: no quiet days, no bursts (default false). */
  uniformDays?: boolean;
  /** Lifetime of access tokens in seconds (default 7200). */
  tokenExpiresInSeconds?: number;
  /** How long a superseded /cgi-bin/token token stays valid, in seconds (default 300). */
  tokenOverlapSeconds?: number;
  /** How long an invited WeChat user takes to accept, in ms of emulator clock (default 1000). */
  inviteAcceptMs?: number;
  /** Messages an account may send per customer message before 45047 (default 5). */
  messagesPerInteraction?: number;
  /**
   * Send control characters inside record texts unescaped, as the real platform does (the
   * body is then not strict JSON: clients must parse defensively). Default false.
   */
  rawControlCharacters?: boolean;
  /**
   * Write record answers indented, whitespace between every token (the docs show bodies
   * but do not say how they are laid out; valid JSON either way). Default false: compact.
   */
  indentedRecordBodies?: boolean;
  /** Run-time records (sent messages, session changes, customer messages) one account may create per emulator second: sizes the msgid layout (default 1000). */
  liveRecordsPerSecond?: number;
  /** How getmsglist reads its cursor where the docs are silent: one knob per reading (see the README). */
  records?: Partial<WechatRecordKnobs>;
  /** Which forms of `kfaccount/del` are taken: `both` (default), `get` or `post` (the SDKs and the doc disagree). */
  deleteAgent?: DeleteAgentMethods;
}

/** One record as the WeChat record APIs return it. */
export interface WechatRawRecord {
  openid: string;
  opercode: number;
  text: string;
  /** Unix seconds. */
  time: number;
  worker: string;
}

/** A seeded official account. */
export interface WechatAccountSeed {
  index: number;
  appId: string;
  secret: string;
  name: string;
  /** The account's WeChat id: the suffix of every agent account (`prefix@wechatId`). */
  wechatId: string;
}

/** A seeded agent. */
export interface WechatAgentSeed {
  kfAccount: string;
  kfId: number;
  nickname: string;
  wechatUser: string;
}

/** Opercodes, see API-NOTES. */
export const Opercode = {
  waiting: 1000,
  accepted: 1001,
  initiated: 1002,
  closed: 1004,
  grabbed: 1005,
  accountReceived: 2001,
  agentSent: 2002,
  agentReceived: 2003,
} as const;

/** Salts of the per-record hashes (numbers, not strings: the hot path allocates nothing). */
const Salt = { time: 1, customer: 2, agent: 3, initiated: 4, grabbed: 5, text: 6, msgid: 7, liveMsgid: 8 } as const;

/** One round of a 32-bit integer mix (murmur3 finalizer). */
function mix(h: number, n: number): number {
  h = (h ^ n) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const BLOCK = 10;
/** Slots of a block that are chat messages (2002/2003): the getmsglist subset. */
const FIRST_MESSAGE_SLOT = 3;
const MESSAGES_PER_BLOCK = 6;
const SECONDS_PER_DAY = 86_400;
/** The busiest day has this many times `recordsPerDay` records (quiet days ×0.25, ordinary ×0.8–1.2). */
export const BURST_FACTOR = 2;
/** Asia/Shanghai has no daylight saving: calendar days are UTC+8. */
const SHANGHAI_OFFSET = 8 * 3600;

/** The Asia/Shanghai calendar day number of a Unix second. */
export function shanghaiDay(unixSeconds: number): number {
  return Math.floor((unixSeconds + SHANGHAI_OFFSET) / SECONDS_PER_DAY);
}

/** The first Unix second of an Asia/Shanghai day number. */
export function shanghaiDayStart(day: number): number {
  return day * SECONDS_PER_DAY - SHANGHAI_OFFSET;
}

const NICKNAMES = ['小美', '阿强', 'Lily', '客服小王', '张三', '李四', 'Kevin 🎧', '晓雪', '大刘', 'Momo'];
const AGENT_SENT = [
  '您好，客服{nick}为您服务。',
  '请问有什么可以帮您？😊',
  '好的，我帮您查一下订单。',
  '已为您登记，预计 3 个工作日内处理。',
  '感谢您的耐心等待🙏',
  'Your refund has been approved.',
  '请提供一下您的手机号\t以便核实。',
  '还有其他问题吗？',
];
const AGENT_RECEIVED = [
  '你好，有什么事情？',
  '我的快递还没到 📦',
  '怎么申请退款？',
  '谢谢！👍',
  '订单号 20240101123456789',
  'hello, anyone there?',
  '好的\n我知道了',
  '能开发票吗？🧾',
  '在吗\u0007',
];
const MEDIA_TEXTS = ['[image]', '[voice]', '[video]'];

/** The deterministic data set of the WeChat platform. */
export class WechatDataSet {
  readonly accounts: WechatAccountSeed[];
  readonly firstDay: number;
  readonly lastDay: number;
  readonly #seed: string;
  /** The seed hashed once; per-record hashes start from it. */
  readonly #seedHash: number;
  readonly #options: Required<
    Pick<WechatEmulatorOptions, 'agentsPerAccount' | 'customers' | 'recordsPerDay' | 'uniformDays'>
  >;
  readonly #dayCounts = new Map<string, number>();
  readonly #customers = new Map<number, string[]>();
  readonly #agents = new Map<number, WechatAgentSeed[]>();

  constructor(
    seed: string,
    options: {
      accounts: number;
      agentsPerAccount: number;
      customers: number;
      days: number;
      recordsPerDay: number;
      uniformDays: boolean;
    },
    clockStartMs: number,
  ) {
    this.#seed = seed;
    this.#seedHash = hash32(seed, 'wechat-records');
    this.#options = options;
    this.lastDay = shanghaiDay(Math.floor(clockStartMs / 1000));
    this.firstDay = this.lastDay - options.days + 1;
    this.accounts = Array.from({ length: options.accounts }, (_, index) => ({
      index,
      appId: `wx${stableId(16, seed, 'appid', index)}`,
      secret: stableId(32, seed, 'secret', index),
      name: `Emulated Account ${index + 1}`,
      wechatId: `kefuemu${index + 1}`,
    }));
  }

  /** The account with this appId, if any. */
  account(appId: string): WechatAccountSeed | undefined {
    return this.accounts.find((account) => account.appId === appId);
  }

  /** The account's customers' openids (28 characters, like real ones). */
  customers(account: number): string[] {
    let list = this.#customers.get(account);
    if (!list) {
      list = Array.from({ length: this.#options.customers }, (_, c) => {
        const digest = createHash('sha256').update(`${this.#seed}\u0000openid\u0000${account}\u0000${c}`).digest();
        return `o${digest.toString('base64url').slice(0, 27)}`;
      });
      this.#customers.set(account, list);
    }
    return list;
  }

  /** The account's seeded agents. */
  agents(account: number): WechatAgentSeed[] {
    let list = this.#agents.get(account);
    if (!list) {
      const wechatId = this.accounts[account]?.wechatId ?? 'unknown';
      list = Array.from({ length: this.#options.agentsPerAccount }, (_, j) => ({
        kfAccount: `kf${1001 + j}@${wechatId}`,
        kfId: 1001 + j,
        nickname: NICKNAMES[j % NICKNAMES.length] ?? `agent${j}`,
        wechatUser: `wxid_${stableId(10, this.#seed, 'agentwx', account, j)}`,
      }));
      this.#agents.set(account, list);
    }
    return list;
  }

  /** Records on an Asia/Shanghai day (pure function of seed, account and day; cached). */
  dayCount(account: number, day: number): number {
    if (day < this.firstDay || day > this.lastDay) return 0;
    const key = `${account}:${day}`;
    let count = this.#dayCounts.get(key);
    if (count === undefined) {
      const u = unitFloat(this.#seed, 'daycount', account, day);
      const v = unitFloat(this.#seed, 'dayspread', account, day);
      // Quiet days, ordinary days and bursts around the configured average.
      const factor = this.#options.uniformDays ? 1 : u < 0.1 ? 0.25 : u > 0.9 ? BURST_FACTOR : 0.8 + 0.4 * v;
      count = Math.round(this.#options.recordsPerDay * factor);
      this.#dayCounts.set(key, count);
    }
    return count;
  }

  /** A 32-bit hash of (salt, account, day, n): pure and allocation-free. */
  #hash(salt: number, account: number, day: number, n: number): number {
    return mix(mix(mix(mix(this.#seedHash, salt), account), day), n);
  }

  /** A number in [0, 1) from (salt, account, day, n). */
  #unit(salt: number, account: number, day: number, n: number): number {
    return this.#hash(salt, account, day, n) / 4294967296;
  }

  /** Unix second of record `index` of a day with `count` records; non-decreasing in `index`. */
  recordTime(account: number, day: number, index: number, count: number): number {
    const jitter = this.#unit(Salt.time, account, day, index);
    return shanghaiDayStart(day) + Math.floor(((index + jitter) * SECONDS_PER_DAY) / count);
  }

  /** The first index of the day whose time is >= `unixSeconds` (count when none). */
  firstIndexAtOrAfter(account: number, day: number, unixSeconds: number): number {
    const count = this.dayCount(account, day);
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.recordTime(account, day, mid, count) < unixSeconds) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The record at (account, day, index). */
  record(account: number, day: number, index: number): WechatRawRecord {
    const count = this.dayCount(account, day);
    const block = Math.floor(index / BLOCK);
    const slot = index % BLOCK;
    const openid = this.customerAt(account, day, index);
    const agents = this.agents(account);
    const agent = agents[this.#hash(Salt.agent, account, day, block) % agents.length];
    const time = this.recordTime(account, day, index, count);
    const initiated = this.#unit(Salt.initiated, account, day, block) < 0.2;
    const worker = agent?.kfAccount ?? '';
    switch (slot) {
      case 0:
        return initiated
          ? { openid, opercode: Opercode.initiated, text: '', time, worker }
          : { openid, opercode: Opercode.waiting, text: '', time, worker: '' };
      case 1:
        return {
          openid,
          opercode: Opercode.accountReceived,
          text: this.#text(account, day, index, false),
          time,
          worker: '',
        };
      case 2: {
        const grabbed = this.#unit(Salt.grabbed, account, day, block) < 0.15;
        return { openid, opercode: grabbed ? Opercode.grabbed : Opercode.accepted, text: '', time, worker };
      }
      case BLOCK - 1:
        return { openid, opercode: Opercode.closed, text: '', time, worker };
      default: {
        const sent = slot % 2 === 1;
        const template = this.#text(account, day, index, sent);
        // Only the greeting names the agent: avoid a new string for every other record.
        const text = template.includes('{nick}') ? template.replace('{nick}', agent?.nickname ?? '') : template;
        return { openid, opercode: sent ? Opercode.agentSent : Opercode.agentReceived, text, time, worker };
      }
    }
  }

  /** The gap (0 … stride − 1) added to the msgid of record (account, day, index): other accounts' traffic. */
  msgidGap(account: number, day: number, index: number, stride: number): number {
    return gapFromHash(this.#hash(Salt.msgid, account, day, index), stride);
  }

  /** The same gap for the `ordinal`-th run-time record created at `time` (unix seconds). */
  liveMsgidGap(account: number, time: number, ordinal: number, stride: number): number {
    return gapFromHash(this.#hash(Salt.liveMsgid, account, time, ordinal), stride);
  }

  /** The customer of the session block containing `index` (for openid filters without generating records). */
  customerAt(account: number, day: number, index: number): string {
    const customers = this.customers(account);
    return customers[this.#hash(Salt.customer, account, day, Math.floor(index / BLOCK)) % customers.length] as string;
  }

  #text(account: number, day: number, index: number, sent: boolean): string {
    const roll = this.#hash(Salt.text, account, day, index);
    if (roll % 10 === 0) return MEDIA_TEXTS[(roll >>> 4) % MEDIA_TEXTS.length] ?? '[image]';
    const list = sent ? AGENT_SENT : AGENT_RECEIVED;
    return list[(roll >>> 8) % list.length] ?? '';
  }
}

/**
 * A gap of 0 … stride − 1 from a hash: a quarter of the gaps are 0 and a quarter stride − 1, the
 * rest uniform. Two records adjacent in one second then often have consecutive ids (the last
 * record's gap stride − 1, the next one's 0), so a client adding 1 to the cursor, or counting on
 * gaps, meets the record it would skip.
 */
function gapFromHash(hash: number, stride: number): number {
  if ((hash & 3) === 0) return 0;
  if ((hash & 3) === 1) return stride - 1;
  return (hash >>> 2) % stride;
}

/** How many of the first `n` indices of a day are chat messages (2002/2003). */
export function messagesBefore(n: number): number {
  const slot = n % BLOCK;
  return (
    Math.floor(n / BLOCK) * MESSAGES_PER_BLOCK + Math.max(0, Math.min(MESSAGES_PER_BLOCK, slot - FIRST_MESSAGE_SLOT))
  );
}

/** The day index of the `m`-th (0-based) chat message of a day. */
export function messageIndex(m: number): number {
  return Math.floor(m / MESSAGES_PER_BLOCK) * BLOCK + FIRST_MESSAGE_SLOT + (m % MESSAGES_PER_BLOCK);
}

/** True for the opercodes getmsglist returns. */
export function isChatMessage(opercode: number): boolean {
  return opercode === Opercode.agentSent || opercode === Opercode.agentReceived;
}
