import { KefuRecordSchema } from '@kefu/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReserved, normalizeChat } from '../src/chat-normalizer.js';

/** A raw GetChat record as seed 002 documents it; resvred is URL-encoded JSON like the platform's. */
function rawChat(
  type: number,
  content: string,
  reserved?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    ad_chatting_id: 1_000_123,
    ad_chatting_talter: 'wxid_fan0001',
    ad_chatting_issend: 0,
    ad_chatting_resvred: reserved ? encodeURIComponent(JSON.stringify(reserved)) : null,
    ad_wechat_id: 10001,
    merchantid: 'M1',
    ad_chatting_updatetime: '2026-11-20 10:00:00',
    ad_chatting_sate: type,
    ad_sermsgid: '4611686018427387905',
    ad_chatting_time: '2026-11-20 10:00:00',
    ad_chatting_content: content,
    ad_staff_code: null,
    ad_voice_txt: null,
    ad_friend_photo: 'https://wx.qlogo.cn/a/132',
    ad_friend_name: '小鱼儿',
    ad_expand: '',
    ad_wechat_nober: 'wxid_account',
    ...extra,
  };
}

interface DecodeCase {
  type: number;
  name: string;
  content: string;
  reserved?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  expected: Record<string, unknown>;
}

// One case per message type of seed 002, plus an unknown code.
const cases: DecodeCase[] = [
  { type: 1, name: 'text', content: '你好\u0007 在吗', expected: { kind: 'text', text: '你好\u0007 在吗' } },
  { type: 2, name: 'image (2)', content: 'imgs[K2]', expected: { kind: 'image', media: { key: 'K2' } } },
  { type: 3, name: 'image (3)', content: 'imgs[K3]', expected: { kind: 'image', media: { key: 'K3' } } },
  { type: 4, name: 'image (4)', content: 'imgs[K4]', expected: { kind: 'image', media: { key: 'K4' } } },
  {
    type: 4,
    name: 'voice (4, audioT)',
    content: 'audioT[V4]',
    reserved: { downloadKey: 'V4', type: -1, videoLen: 7 },
    expected: { kind: 'voice', media: { key: 'V4', durationSeconds: 7 } },
  },
  {
    type: 34,
    name: 'voice (34) with transcript',
    content: 'audio[V34]',
    reserved: { downloadKey: 'V34', type: -1, videoLen: 12 },
    extra: { ad_voice_txt: '明天发货' },
    expected: { kind: 'voice', text: '明天发货', media: { key: 'V34', durationSeconds: 12 } },
  },
  {
    type: 42,
    name: 'card',
    content: 'MP[王店长]',
    reserved: { nickname: '王店长' },
    expected: { kind: 'card', card: { nickname: '王店长' } },
  },
  {
    type: 48,
    name: 'location',
    content: 'a(https://map.qq.com/?m=1)',
    reserved: {
      desc: '杭州市上城区天城路1号',
      thumbUrl: 'https://t/loc.jpg',
      title: '杭州东站',
      url: 'https://map.qq.com/?m=1',
    },
    expected: {
      kind: 'location',
      location: {
        title: '杭州东站',
        address: '杭州市上城区天城路1号',
        url: 'https://map.qq.com/?m=1',
        thumbUrl: 'https://t/loc.jpg',
      },
    },
  },
  {
    type: 49,
    name: 'link',
    content: 'a(https://mp.weixin.qq.com/s/x)',
    reserved: { title: '会员日专享福利', url: 'https://mp.weixin.qq.com/s/x' },
    expected: { kind: 'link', link: { title: '会员日专享福利', url: 'https://mp.weixin.qq.com/s/x' } },
  },
  {
    type: 50,
    name: 'video call',
    content: '[视频通话] 通话时长 01:20',
    expected: { kind: 'call', text: '[视频通话] 通话时长 01:20' },
  },
  {
    type: 495,
    name: 'group invite',
    content: '邀请你加入群聊',
    reserved: { desc: '进入可查看详情', thumbUrl: 'https://t/g.jpg', title: '邀请你加入群聊', url: 'https://x/inv' },
    expected: {
      kind: 'group_invite',
      link: {
        title: '邀请你加入群聊',
        url: 'https://x/inv',
        description: '进入可查看详情',
        thumbUrl: 'https://t/g.jpg',
      },
    },
  },
  {
    type: 496,
    name: 'file',
    content: 'file[F1]',
    reserved: { title: '报价单.xlsx', totalLen: 20480, url: '' },
    expected: { kind: 'file', media: { key: 'F1', name: '报价单.xlsx', sizeBytes: 20480 } },
  },
  {
    type: 1001,
    name: 'shared card',
    content: '[分享名片]王店长',
    expected: { kind: 'card', text: '[分享名片]王店长' },
  },
  {
    type: 4919,
    name: 'forwarded history',
    content: '[聊天记录]A和B',
    expected: { kind: 'chat_history', text: '[聊天记录]A和B' },
  },
  {
    type: 4933,
    name: 'mini program',
    content: '[小程序]帮我砍一刀',
    reserved: { appIconUrl: 'https://t/icon.png', displayName: '拼多多', downloadKey: 'COVER', title: '帮我砍一刀' },
    expected: {
      kind: 'miniprogram',
      miniprogram: { title: '帮我砍一刀', appName: '拼多多', iconUrl: 'https://t/icon.png', coverKey: 'COVER' },
    },
  },
  { type: 4362, name: 'red packet', content: '[红包]恭喜发财', expected: { kind: 'payment', text: '[红包]恭喜发财' } },
  {
    type: 7549,
    name: 'channels video',
    content: '[视频号]早餐',
    reserved: {
      avatar: 'https://t/a.jpg',
      description: '三分钟早餐',
      nickname: '每日穿搭',
      thumbUrl: 'https://t/th.jpg',
    },
    expected: {
      kind: 'channels_video',
      card: { nickname: '每日穿搭', avatarUrl: 'https://t/a.jpg', description: '三分钟早餐' },
      link: { title: '每日穿搭', thumbUrl: 'https://t/th.jpg' },
    },
  },
  {
    type: 8220,
    name: 'quote of a link',
    content: '这个还有吗',
    reserved: { type: 49, content: '', title: '夏季新品', downloadKey: '', url: 'https://mp/s/q' },
    expected: {
      kind: 'quote',
      text: '这个还有吗',
      quote: { kind: 'link', platformType: '49', title: '夏季新品', url: 'https://mp/s/q' },
    },
  },
  {
    type: 9730,
    name: 'live',
    content: '[直播]上新',
    reserved: {
      avatar: 'https://t/l.jpg',
      description: '秋冬上新',
      nickname: '好物小助手',
      thumbUrl: 'https://t/lt.jpg',
    },
    expected: {
      kind: 'live',
      card: { nickname: '好物小助手', avatarUrl: 'https://t/l.jpg', description: '秋冬上新' },
      link: { title: '好物小助手', thumbUrl: 'https://t/lt.jpg' },
    },
  },
  ...[10000, 10001, 10002, 10003, 10004, 10005].map(
    (type): DecodeCase => ({
      type,
      name: `system notice ${type}`,
      content: `notice ${type}`,
      expected: { kind: 'notice', direction: 'system', text: `notice ${type}` },
    }),
  ),
  {
    type: 11001,
    name: 'to-do',
    content: '[待办]明天回访',
    extra: { ad_chatting_issend: 1, ad_staff_code: 'S1011' },
    expected: { kind: 'todo', direction: 'system', agent: 'S1011', text: '[待办]明天回访' },
  },
  {
    type: 12001,
    name: 'takeover request',
    content: '申请接管该会话',
    reserved: { key: 'TK1', name: '林小美', reason: '大额订单跟进' },
    extra: { ad_chatting_issend: 1, ad_staff_code: 'S1011' },
    expected: {
      kind: 'takeover',
      direction: 'system',
      event: 'other',
      text: '大额订单跟进',
      card: { nickname: '林小美' },
    },
  },
  {
    type: 77777,
    name: 'unknown type',
    content: '[当前版本不支持展示该内容]',
    reserved: { raw: 'type-77777', version: 3 },
    expected: { kind: 'unknown', text: '[当前版本不支持展示该内容]' },
  },
];

describe('normalizeChat', () => {
  it.each(cases)('decodes type $type ($name)', ({ type, content, reserved, extra, expected }) => {
    // Given a raw chat of this type, when it is normalized,
    const raw = rawChat(type, content, reserved, extra);
    const record = normalizeChat(raw, { timeZoneOffsetMinutes: 480 });
    // then it is a valid record with the typed fields of its type and the payload kept whole.
    expect(KefuRecordSchema.safeParse(record).success).toBe(true);
    expect(record).toMatchObject({
      id: '10001:1000123',
      provider: 'youmi',
      account: '10001',
      customer: 'wxid_fan0001',
      direction: 'inbound',
      at: '2026-11-20T02:00:00.000Z',
      ...expected,
    });
    expect(record.raw).toEqual(raw);
  });

  it('covers every type code of seed 002', () => {
    const documented = [
      1, 2, 3, 4, 34, 42, 48, 49, 50, 495, 496, 1001, 4919, 4933, 4362, 7549, 8220, 9730, 10000, 10001, 10002, 10003,
      10004, 10005, 11001, 12001,
    ];
    expect(documented.filter((code) => !cases.some((c) => c.type === code))).toEqual([]);
  });

  it('maps ad_chatting_issend 1 to outbound and the staff code to the agent', () => {
    const record = normalizeChat(rawChat(1, '您好', undefined, { ad_chatting_issend: 1, ad_staff_code: 'S1012' }), {
      timeZoneOffsetMinutes: 480,
    });
    expect(record.direction).toBe('outbound');
    expect(record.agent).toBe('S1012');
  });

  it('rejects a chat without its cursor with a typed error naming the field', () => {
    const { ad_chatting_id: _dropped, ...broken } = rawChat(1, 'x');
    expect(() => normalizeChat(broken, { timeZoneOffsetMinutes: 480 })).toThrow(
      expect.objectContaining({ code: 'YOUMI_BAD_ENVELOPE', message: expect.stringContaining('ad_chatting_id') }),
    );
  });

  it('keeps a record whose resvred is not decodable, without typed extras', () => {
    const raw = { ...rawChat(49, 'a(https://x)'), ad_chatting_resvred: '%E0%A4%A' };
    const record = normalizeChat(raw, { timeZoneOffsetMinutes: 480 });
    expect(record.kind).toBe('link');
    expect(record.link).toEqual({ url: 'https://x' });
  });
});

/** URL-encodes like Java's `URLEncoder` / .NET's `HttpUtility.UrlEncode` (form encoding): space → `+`. */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

describe('decodeReserved', () => {
  it('given JSON encoded with %20 or with + for spaces, when decoded, then it is the same object', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', '+', '%', '&', '=', '中', '😀', '"', '\\', '/') });
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 4 }), (value) => {
        const json = JSON.stringify(value);
        expect(decodeReserved(encodeURIComponent(json))).toEqual(value);
        expect(decodeReserved(formEncode(json))).toEqual(value);
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it('given a + in the encoded text, when decoded, then it is a space, and %2B is a plus', () => {
    expect(decodeReserved('%7B%22title%22%3A%22a+b%2Bc%22%7D')).toEqual({ title: 'a b+c' });
  });

  it('given JSON that was not encoded at all, when decoded, then it is read as it is (+ stays +)', () => {
    expect(decodeReserved('{"title":"a+b c"}')).toEqual({ title: 'a+b c' });
  });

  it('given text that is not a JSON object, when decoded, then there is nothing', () => {
    expect(decodeReserved('not json')).toBeUndefined();
    expect(decodeReserved('%5B1%5D')).toBeUndefined();
    expect(decodeReserved('%E0%A4%A')).toBeUndefined();
    expect(decodeReserved(null)).toBeUndefined();
  });
});

describe('normalizeChat times', () => {
  it('given the time formats of the docs, when normalized, then at is the same UTC instant', () => {
    for (const time of [
      '2026-11-20 08:00:00',
      '2026-11-20T08:00:00+08:00',
      '2026/11/20 8:00:00',
      '2026-11-20 08:00:00.0000000',
    ]) {
      expect(normalizeChat(rawChat(1, 'x', undefined, { ad_chatting_time: time }), {}).at, time).toBe(
        '2026-11-20T00:00:00.000Z',
      );
    }
  });

  it('given an unknown time format, when normalized, then the typed error names the field and the chat', () => {
    expect(() => normalizeChat(rawChat(1, 'x', undefined, { ad_chatting_time: 'yesterday' }), {})).toThrow(
      expect.objectContaining({
        code: 'YOUMI_TIME_INVALID',
        message: expect.stringContaining('ad_chatting_time of chat 1000123'),
      }),
    );
  });
});
