import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import {
  createYoumiPlatform,
  formatYoumiTime,
  parseYoumiTime,
  type YoumiEmulatorOptions,
  type YoumiRawChat,
  youmiRawChatSchema,
  youmiRawFanSchema,
} from '../src/youmi/index.js';

// A fixed emulator clock so the generated history is the same on every run.
const START = Date.UTC(2026, 0, 15, 4, 30, 0);

function platformFor(seed: string, youmi: YoumiEmulatorOptions = {}) {
  return createYoumiPlatform({ seed, youmi, clock: { now: () => START } });
}

/** The emulator (clock starting at START) with a Youmi bearer token, driven through plain undici requests. */
async function startYoumi(seed: string, youmi: YoumiEmulatorOptions = {}) {
  const emulator = await startEmulator({ seed, now: START, youmi });
  const info = emulator.youmi;
  const tokenResponse = await request(info.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      scope: info.scope,
    }).toString(),
  });
  const { access_token: token } = (await tokenResponse.body.json()) as { access_token: string };
  const call = async (path: string, body: unknown) => {
    const response = await request(`${info.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.body.json()) as {
      succeed: boolean;
      errmsg: number;
      errdesc: string | null;
      values: unknown;
    };
  };
  return { info, call, close: () => emulator.stop() };
}

const SEED_002_TYPES = [
  1, 2, 3, 4, 34, 42, 48, 49, 50, 495, 496, 1001, 4919, 4933, 4362, 7549, 8220, 9730, 10000, 10001, 10002, 10003, 10004,
  10005, 11001, 12001,
];

function allChats(seed: string, youmi: YoumiEmulatorOptions = {}) {
  const platform = platformFor(seed, youmi);
  const info = platform.describe('http://127.0.0.1:1');
  return info.wechatIds.flatMap((wechatId) => info.expectedChats({ wechatId, from: new Date(0), to: new Date(START) }));
}

function resvred(chat: YoumiRawChat): Record<string, unknown> | null {
  return chat.ad_chatting_resvred === null ? null : JSON.parse(decodeURIComponent(chat.ad_chatting_resvred));
}

describe('Youmi emulator data', () => {
  const chats = allChats('data-test');

  it('given a seed, when generated twice, then the data is identical; another seed gives other data', () => {
    expect(allChats('data-test')).toEqual(chats);
    expect(allChats('other-seed')[0]).not.toEqual(chats[0]);
  });

  it('then every chat has all 17 fields of seed 002 with the documented types', () => {
    expect(chats.length).toBeGreaterThan(1000);
    for (const chat of chats) youmiRawChatSchema.parse(chat);
    const platform = platformFor('data-test');
    for (const fan of platform.fans(10001)) youmiRawFanSchema.parse(fan);
  });

  it('then every message type of seed 002 appears, plus unknown codes to pass through', () => {
    const types = new Set(chats.map((chat) => chat.ad_chatting_sate));
    for (const type of SEED_002_TYPES) expect(types, `type ${type}`).toContain(type);
    expect([...types].some((type) => !SEED_002_TYPES.includes(type))).toBe(true);
  });

  it('then content and resvred follow the formats of seed 002 per type', () => {
    const byType = (type: number) => chats.filter((chat) => chat.ad_chatting_sate === type);
    for (const chat of [...byType(2), ...byType(3)]) {
      expect(chat.ad_chatting_content).toMatch(/^imgs\[[0-9a-f]{32}\]$/);
      expect(chat.ad_chatting_resvred).toBeNull();
    }
    for (const chat of byType(34)) {
      expect(chat.ad_chatting_content).toMatch(/^audio\[[0-9a-f]{32}\]$/);
      expect(resvred(chat)).toMatchObject({ downloadKey: expect.any(String), type: -1, videoLen: expect.any(Number) });
    }
    for (const chat of byType(4)) expect(chat.ad_chatting_content).toMatch(/^(imgs|audioT)\[/);
    for (const chat of byType(42)) {
      const nickname = /^MP\[(.+)\]$/.exec(chat.ad_chatting_content)?.[1];
      expect(resvred(chat)).toEqual({ nickname });
    }
    for (const chat of byType(48)) {
      const url = /^a\((.+)\)$/.exec(chat.ad_chatting_content)?.[1];
      expect(resvred(chat)).toEqual({
        desc: expect.any(String),
        thumbUrl: expect.any(String),
        title: expect.any(String),
        url,
      });
    }
    for (const chat of byType(49)) {
      const url = /^a\((.+)\)$/.exec(chat.ad_chatting_content)?.[1];
      expect(resvred(chat)).toEqual({ title: expect.any(String), url });
    }
    for (const chat of byType(495))
      expect(Object.keys(resvred(chat) ?? {}).sort()).toEqual(['desc', 'thumbUrl', 'title', 'url']);
    for (const chat of byType(496)) {
      expect(chat.ad_chatting_content).toMatch(/^file\[[0-9a-f]{32}\]$/);
      expect(resvred(chat)).toEqual({ title: expect.any(String), totalLen: expect.any(Number), url: '' });
    }
    for (const chat of byType(4933)) {
      expect(Object.keys(resvred(chat) ?? {}).sort()).toEqual(['appIconUrl', 'displayName', 'downloadKey', 'title']);
    }
    for (const chat of [...byType(7549), ...byType(9730)]) {
      expect(Object.keys(resvred(chat) ?? {}).sort()).toEqual(['avatar', 'description', 'nickname', 'thumbUrl']);
    }
    for (const chat of byType(8220)) {
      expect(resvred(chat)).toMatchObject({
        type: expect.any(Number),
        content: expect.any(String),
        url: expect.any(String),
      });
    }
    for (const chat of byType(12001))
      expect(Object.keys(resvred(chat) ?? {}).sort()).toEqual(['key', 'name', 'reason']);
    for (const type of [1, 50, 1001, 4919, 4362, 10000, 10001, 10002, 10003, 10004, 10005, 11001]) {
      for (const chat of byType(type)) expect(chat.ad_chatting_resvred, `type ${type}`).toBeNull();
    }
  });

  it('then texts contain Chinese, emoji and occasional raw control characters', () => {
    const texts = chats.filter((chat) => chat.ad_chatting_sate === 1).map((chat) => chat.ad_chatting_content);
    expect(texts.some((text) => /[\u4e00-\u9fff]/.test(text))).toBe(true);
    expect(texts.some((text) => /\p{Extended_Pictographic}/u.test(text))).toBe(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
    expect(texts.some((text) => /[\u0000-\u0008\u000b\u001b]|\t/.test(text))).toBe(true);
  });

  it('then staff codes, directions and times are consistent', () => {
    for (const chat of chats) {
      if (chat.ad_chatting_issend === 0) expect(chat.ad_staff_code).toBeNull();
      expect(chat.ad_chatting_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const time = parseYoumiTime(chat.ad_chatting_time);
      expect(time).toBeLessThan(START);
      expect(time).toBeGreaterThanOrEqual(START - 30 * 86_400_000);
      expect(parseYoumiTime(chat.ad_chatting_updatetime)).toBeGreaterThanOrEqual(time);
      expect(BigInt(chat.ad_sermsgid) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    }
    expect(chats.some((chat) => chat.ad_chatting_issend === 1 && chat.ad_staff_code !== null)).toBe(true);
  });

  it('then chat ids are unique and ascend with time across each account', () => {
    const platform = platformFor('data-test');
    for (const wechatId of platform.describe('http://x').wechatIds) {
      const account = platform.expectedChats({ wechatId, from: new Date(0), to: new Date(START) });
      expect(new Set(account.map((chat) => chat.ad_chatting_id)).size).toBe(account.length);
      for (let i = 1; i < account.length; i++) {
        const previous = account[i - 1] as YoumiRawChat;
        const current = account[i] as YoumiRawChat;
        expect(current.ad_chatting_id).toBeGreaterThan(previous.ad_chatting_id);
        expect(current.ad_chatting_time >= previous.ad_chatting_time).toBe(true);
      }
    }
  });

  it('given a huge account, when one fan is paged, then it answers without materializing the account', async () => {
    // 20 000 fans × ~10 000 chats = ~200 M chats: only the requested page is generated.
    const youmi = await startYoumi('huge', { fansPerAccount: 20_000, chatsPerFan: 10_000, days: 365 });
    try {
      const fansKey = youmi.info.fans(10002).at(-1)?.fansKey;
      expect(fansKey).toMatch(/^wxid_/);
      const answer = await youmi.call('/v2/ChatMess/GetChat', {
        wechatId: 10002,
        fansKey,
        pageSize: '100',
        pageIndex: '7',
      });
      expect(answer.succeed).toBe(true);
      const page = answer.values as YoumiRawChat[];
      expect(page).toHaveLength(100);
      expect(page.every((chat) => chat.ad_chatting_talter === fansKey)).toBe(true);
    } finally {
      await youmi.close();
    }
  });
});

describe('Youmi emulator options and helpers', () => {
  it.each([
    [{ chatsPerFan: 0 }, 'youmi.chatsPerFan'],
    [{ wechatIds: [7, 7] }, 'youmi.wechatIds'],
    [{ days: 1, chatsPerFan: 20_000 }, 'youmi.chatsPerFan'],
    [{ fansPerAcount: 3 } as YoumiEmulatorOptions, 'youmi'],
  ])('given options %j, then EMULATOR_YOUMI_OPTIONS_INVALID names %s', (youmi, field) => {
    expect(() => platformFor('x', youmi)).toThrow(
      expect.objectContaining({ code: 'EMULATOR_YOUMI_OPTIONS_INVALID', message: expect.stringContaining(field) }),
    );
  });

  it('then formatYoumiTime equals the UTC+8 ISO form for any instant and parseYoumiTime inverts it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_000_000_000_000, max: 7_000_000_000_000 }), (ms) => {
        const expected = new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
        expect(formatYoumiTime(ms)).toBe(expected);
        expect(parseYoumiTime(expected)).toBe(Math.floor(ms / 1000) * 1000);
      }),
      { numRuns: 2000, seed: 8 },
    );
    expect(formatYoumiTime(Date.UTC(2024, 1, 28, 16, 0, 0))).toBe('2024-02-29 00:00:00');
  });

  it('given explicit wechatIds, then they are served', () => {
    expect(platformFor('x', { wechatIds: [42, 7] }).describe('http://x').wechatIds).toEqual([42, 7]);
  });

  it('given an unknown account, an unknown fan or from > to, then the helpers throw typed errors', () => {
    const platform = platformFor('x');
    const range = { from: new Date(0), to: new Date(START) };
    expect(() => platform.fans(1)).toThrow(expect.objectContaining({ code: 'EMULATOR_YOUMI_UNKNOWN_ACCOUNT' }));
    expect(() => platform.expectedChats({ wechatId: 10001, fansKey: 'wxid_nobody', ...range })).toThrow(
      expect.objectContaining({ code: 'EMULATOR_YOUMI_UNKNOWN_FAN' }),
    );
    expect(() => platform.expectedChats({ wechatId: 10001, from: new Date(START), to: new Date(0) })).toThrow(
      expect.objectContaining({ code: 'EMULATOR_YOUMI_QUERY_INVALID' }),
    );
  });
});

describe('GetChat paging against the ground truth', () => {
  let youmi: Awaited<ReturnType<typeof startYoumi>>;
  beforeAll(async () => {
    youmi = await startYoumi('paging', { fansPerAccount: 8, chatsPerFan: 60 });
  });
  afterAll(() => youmi.close());

  it('given any fan, range, cursor and page size, when paging until a short page, then the pages equal expectedChats', async () => {
    const fans = youmi.info.fans(10001).map((fan) => fan.fansKey);
    const windowStart = Math.floor(START / 1000) - 30 * 86_400;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fans),
        fc.integer({ min: windowStart - 86_400, max: windowStart + 31 * 86_400 }),
        fc.integer({ min: 0, max: 31 * 86_400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        async (fansKey, startTimestamp, length, pageSize, useCursor) => {
          const endTimestamp = startTimestamp + length;
          const expected = youmi.info.expectedChats({
            wechatId: 10001,
            fansKey,
            from: new Date(startTimestamp * 1000),
            to: new Date(endTimestamp * 1000),
          });
          const received: YoumiRawChat[] = [];
          if (useCursor) {
            // Incremental sync: always page 1, cursor = last id seen (minChattingId is exclusive).
            let minChattingId = 0;
            for (;;) {
              const body = {
                wechatId: 10001,
                fansKey,
                startTimestamp,
                endTimestamp,
                minChattingId,
                pageSize: String(pageSize),
                pageIndex: '1',
              };
              const page = (await youmi.call('/v2/ChatMess/GetChat', body)).values as YoumiRawChat[];
              received.push(...page);
              if (page.length < pageSize) break;
              minChattingId = page.at(-1)?.ad_chatting_id ?? minChattingId;
            }
          } else {
            for (let pageIndex = 1; ; pageIndex++) {
              const body = {
                wechatId: 10001,
                fansKey,
                startTimestamp,
                endTimestamp,
                pageSize: String(pageSize),
                pageIndex: String(pageIndex),
              };
              const page = (await youmi.call('/v2/ChatMess/GetChat', body)).values as YoumiRawChat[];
              received.push(...page);
              if (page.length < pageSize) break;
            }
          }
          expect(received).toEqual(expected);
        },
      ),
      { numRuns: 40, seed: 20260115 },
    );
  });
});
