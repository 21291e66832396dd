import { KefuRecordSchema } from '@kefu/core';
import { WechatCallbackCrypto } from '@kefu/wechat-crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePush, pushDedupeKey, readPushXml } from '../src/index.js';
import { parsePush, pushRecordId, recordId, recordIdentity } from '../src/wire.js';

const APP_ID = 'wx1234567890abcdef';

/** Reads, validates and normalizes a push, and checks the record against the record schema. */
function recordOf(xml: string) {
  const record = normalizePush(APP_ID, readPushXml(xml));
  expect(KefuRecordSchema.parse(record)).toEqual(record);
  return record;
}

function errorOf(action: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    action();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

// Samples: the official "接收普通消息" / "接收事件推送" pages' XML as the SDKs copy it —
// wechatpy tests/test_parser.py and tests/test_events.py (wechatpy/wechatpy @
// 5b8502e3bc4abfee3abae77983e01633ed47cebf), and the voice-with-Recognition and shortvideo
// samples of https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
describe('customer messages (wechat-push.md §4.1)', () => {
  it('given the text sample, when normalized, then an inbound text record of the openid at CreateTime', () => {
    const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
         <CreateTime>1348831860</CreateTime>
        <MsgType><![CDATA[text]]></MsgType>
        <Content><![CDATA[this is a test]]></Content>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
    expect(record).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      provider: 'wechat-mp',
      account: APP_ID,
      customer: 'fromUser',
      direction: 'inbound',
      kind: 'text',
      text: 'this is a test',
      at: '2012-09-28T11:31:00.000Z',
      raw: {
        ToUserName: 'toUser',
        FromUserName: 'fromUser',
        CreateTime: '1348831860',
        MsgType: 'text',
        Content: 'this is a test',
        MsgId: '1234567890123456',
      },
    });
  });

  it('given the image sample, when normalized, then media keyed by MediaId with PicUrl as its url', () => {
    const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
        <CreateTime>1348831860</CreateTime>
        <MsgType><![CDATA[image]]></MsgType>
        <PicUrl><![CDATA[this is a url]]></PicUrl>
        <MediaId><![CDATA[media_id]]></MediaId>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
    expect(record).toMatchObject({
      direction: 'inbound',
      kind: 'image',
      media: { key: 'media_id', url: 'this is a url' },
    });
    expect(record.text).toBeUndefined();
  });

  it('given the voice sample with Recognition, when normalized, then voice media and the recognized text', () => {
    const record = recordOf(`<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[voice]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <Format><![CDATA[Format]]></Format>
  <Recognition><![CDATA[腾讯微信团队]]></Recognition>
  <MsgId>1234567890123456</MsgId>
</xml>`);
    expect(record).toMatchObject({ kind: 'voice', media: { key: 'media_id' }, text: '腾讯微信团队' });
    expect(record.raw).toMatchObject({ Format: 'Format' });
  });

  it('given the voice sample without Recognition, when normalized, then voice media and no text', () => {
    const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
        <CreateTime>1357290913</CreateTime>
        <MsgType><![CDATA[voice]]></MsgType>
        <MediaId><![CDATA[media_id]]></MediaId>
        <Format><![CDATA[Format]]></Format>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
    expect(record).toMatchObject({ kind: 'voice', media: { key: 'media_id' } });
    expect(record.text).toBeUndefined();
  });

  it.each(['video', 'shortvideo'])(
    'given the %s sample, when normalized, then video media by MediaId, ThumbMediaId kept in raw',
    (msgType) => {
      const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
        <CreateTime>1357290913</CreateTime>
        <MsgType><![CDATA[${msgType}]]></MsgType>
        <MediaId><![CDATA[media_id]]></MediaId>
        <ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
      expect(record).toMatchObject({ kind: 'video', media: { key: 'media_id' }, raw: { MsgType: msgType } });
      expect(record.raw).toMatchObject({ ThumbMediaId: 'thumb_media_id' });
    },
  );

  it('given the location sample, when normalized, then the Label as address and the coordinates as text in raw', () => {
    const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
        <CreateTime>1351776360</CreateTime>
        <MsgType><![CDATA[location]]></MsgType>
        <Location_X>23.134521</Location_X>
        <Location_Y>113.358803</Location_Y>
        <Scale>20</Scale>
        <Label><![CDATA[位置信息]]></Label>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
    expect(record).toMatchObject({ kind: 'location', location: { address: '位置信息' } });
    expect(record.raw).toMatchObject({ Location_X: '23.134521', Location_Y: '113.358803', Scale: '20' });
  });

  it('given the link sample, when normalized, then title, description and url', () => {
    const record = recordOf(`<xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[fromUser]]></FromUserName>
        <CreateTime>1351776360</CreateTime>
        <MsgType><![CDATA[link]]></MsgType>
        <Title><![CDATA[公众平台官网链接]]></Title>
        <Description><![CDATA[公众平台官网链接]]></Description>
        <Url><![CDATA[url]]></Url>
        <MsgId>1234567890123456</MsgId>
        </xml>`);
    expect(record).toMatchObject({
      kind: 'link',
      link: { title: '公众平台官网链接', description: '公众平台官网链接', url: 'url' },
    });
  });

  it('given a message type kefu does not know (miniprogrampage), when normalized, then kind unknown, inbound, every field in raw', () => {
    const record =
      recordOf(`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1482048670</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>1234567890123456</MsgId>
<Title><![CDATA[title]]></Title><AppId><![CDATA[appid]]></AppId><PagePath><![CDATA[path]]></PagePath>
<ThumbUrl><![CDATA[thumburl]]></ThumbUrl><ThumbMediaId><![CDATA[thumbmediaid]]></ThumbMediaId></xml>`);
    expect(record).toMatchObject({ kind: 'unknown', direction: 'inbound' });
    expect(record.raw).toMatchObject({ AppId: 'appid', PagePath: 'path', ThumbUrl: 'thumburl' });
  });

  it('given Chinese text with emoji, when normalized, then the text is exact', () => {
    const content = '你好，我的订单 #42 还没到 😢👍🏽 𠮷';
    const record = recordOf(
      `<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1714112445</CreateTime><MsgType>text</MsgType><Content><![CDATA[${content}]]></Content><MsgId>1</MsgId></xml>`,
    );
    expect(record.text).toBe(content);
  });

  it('given a MsgId above 2^53, when normalized, then it stays exact in raw and in the dedupe key', () => {
    const xml = (msgId: string) =>
      `<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1714112445</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>${msgId}</MsgId></xml>`;
    // Number() maps both to 6265881059295448000: a numeric MsgId would merge them.
    expect(Number('6265881059295447969')).toBe(Number('6265881059295447968'));
    const first = recordOf(xml('6265881059295447969'));
    const second = recordOf(xml('6265881059295447968'));
    expect((first.raw as { MsgId: string }).MsgId).toBe('6265881059295447969');
    expect(pushDedupeKey(APP_ID, readPushXml(xml('6265881059295447969')))).toContain('"6265881059295447969"');
    expect(first.id).not.toBe(second.id);
  });

  it('given the WxJava kitchen-sink push with nested ScanCodeInfo, SendPicsInfo and SendLocationInfo, when normalized, then raw keeps them as objects of text', () => {
    // WxJava weixin-java-mp/src/test/java/me/chanjar/weixin/mp/bean/message/WxMpXmlMessageTest.java
    // testFromXml (binarywang/WxJava @ 3e48dc7f8378f919f734bc08ff1abd78720d9861), abridged.
    const record = recordOf(
      '<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName> ' +
        '<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content>' +
        '<MsgId>1234567890123456</MsgId><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey>' +
        '<Latitude>23.137466</Latitude><Precision>119.385040</Precision>' +
        '<ScanCodeInfo> <ScanType><![CDATA[qrcode]]></ScanType> <ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>' +
        '<SendPicsInfo> <Count>1</Count> <PicList>  <item>   <PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum>  </item> </PicList></SendPicsInfo>' +
        '<SendLocationInfo>  <Location_X><![CDATA[23]]></Location_X>  <Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label>  <Poiname><![CDATA[wo de poi]]></Poiname></SendLocationInfo>' +
        '<ReasonMsg><![CDATA[]]></ReasonMsg></xml>',
    );
    expect(record).toMatchObject({ kind: 'text', text: 'this is a test' });
    expect(record.raw).toMatchObject({
      Latitude: '23.137466',
      Precision: '119.385040',
      ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' },
      SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' } } },
      SendLocationInfo: { Location_X: '23', Label: ' 广州市海珠区客村艺苑路 106号', Poiname: 'wo de poi' },
      ReasonMsg: '',
    });
  });
});

describe('events (wechat-push.md §4.2)', () => {
  const kfEvent = (event: string, agents: string) => `<xml>
        <ToUserName><![CDATA[touser]]></ToUserName>
        <FromUserName><![CDATA[fromuser]]></FromUserName>
        <CreateTime>1399197672</CreateTime>
        <MsgType><![CDATA[event]]></MsgType>
        <Event><![CDATA[${event}]]></Event>
        ${agents}
        </xml>`;

  it.each([
    ['kf_create_session', 'session_created'],
    ['kf_close_session', 'session_closed'],
  ])('given %s, when normalized, then a system %s event with the KfAccount as agent', (event, sessionEvent) => {
    const record = recordOf(kfEvent(event, '<KfAccount><![CDATA[test1@test]]></KfAccount>'));
    expect(record).toMatchObject({
      direction: 'system',
      kind: 'event',
      event: sessionEvent,
      agent: 'test1@test',
      customer: 'fromuser',
      at: '2014-05-04T10:01:12.000Z',
    });
  });

  it('given kf_switch_session, when normalized, then session_transferred to ToKfAccount, FromKfAccount in raw', () => {
    const record = recordOf(
      kfEvent(
        'kf_switch_session',
        '<FromKfAccount><![CDATA[test1@test]]></FromKfAccount><ToKfAccount><![CDATA[test2@test]]></ToKfAccount>',
      ),
    );
    expect(record).toMatchObject({ event: 'session_transferred', agent: 'test2@test' });
    expect(record.raw).toMatchObject({ FromKfAccount: 'test1@test', ToKfAccount: 'test2@test' });
  });

  it.each([
    ['subscribe', ''],
    ['subscribe', '<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>'],
    ['unsubscribe', ''],
    ['SCAN', '<EventKey><![CDATA[123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>'],
    ['some_future_event', '<Whatever><Nested>x</Nested></Whatever>'],
  ])(
    'given the %s event, when normalized, then a system event "other" with its fields in raw and no agent',
    (event, extra) => {
      const record = recordOf(kfEvent(event, extra));
      expect(record).toMatchObject({ direction: 'system', kind: 'event', event: 'other', raw: { Event: event } });
      expect(record.agent).toBeUndefined();
    },
  );
});

describe('record ids and the dedupe key (wechat-push.md §4.4)', () => {
  const text = (from: string, msgId: string, content = 'hi') =>
    `<xml><ToUserName>gh</ToUserName><FromUserName>${from}</FromUserName><CreateTime>1714112445</CreateTime><MsgType>text</MsgType><Content>${content}</Content><MsgId>${msgId}</MsgId></xml>`;

  it("given WeChat's retry of a message (same XML, re-read), when normalized, then the same id", () => {
    expect(recordOf(text('o-1', '42')).id).toBe(recordOf(text('o-1', '42')).id);
  });

  it('given two customers whose messages share a MsgId (WxJava #333), when normalized, then distinct ids', () => {
    expect(recordOf(text('o-1', '42')).id).not.toBe(recordOf(text('o-2', '42')).id);
  });

  it('given the same message for two accounts, when normalized, then distinct ids', () => {
    const push = readPushXml(text('o-1', '42'));
    expect(pushRecordId('wxA', push)).not.toBe(pushRecordId('wxB', push));
  });

  it('given a message, then its id is the hashed dedupe key, and differs from the getmsglist record of the same message', () => {
    const push = readPushXml(text('o-1', '42'));
    expect(pushRecordId(APP_ID, push)).toBe(recordId(pushDedupeKey(APP_ID, push), 0));
    const listed = { openid: 'o-1', opercode: 2003, text: 'hi', time: 1714112445, worker: '' };
    expect(pushRecordId(APP_ID, push)).not.toBe(recordId(recordIdentity(APP_ID, listed), 0));
  });

  it('given events of one customer in one second that differ in Event, EventKey or agent, when normalized, then distinct ids; a retry keeps its id', () => {
    const event = (name: string, fields: string) =>
      `<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1714112445</CreateTime><MsgType>event</MsgType><Event>${name}</Event>${fields}</xml>`;
    const ids = [
      event('kf_create_session', '<KfAccount>a@gh</KfAccount>'),
      event('kf_create_session', '<KfAccount>b@gh</KfAccount>'),
      event('kf_close_session', '<KfAccount>a@gh</KfAccount>'),
      event('kf_switch_session', '<FromKfAccount>a@gh</FromKfAccount><ToKfAccount>b@gh</ToKfAccount>'),
      event('kf_switch_session', '<FromKfAccount>b@gh</FromKfAccount><ToKfAccount>a@gh</ToKfAccount>'),
      event('subscribe', ''),
      event('subscribe', '<EventKey>qrscene_1</EventKey>'),
    ].map((xml) => recordOf(xml).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(recordOf(event('kf_create_session', '<KfAccount>a@gh</KfAccount>')).id).toBe(ids[0]);
  });

  it('property: two pushes get the same id exactly when their dedupe fields are equal', () => {
    const pushArbitrary = fc.record({
      FromUserName: fc.constantFrom('o-1', 'o-2'),
      CreateTime: fc.constantFrom('1714112445', '1714112446'),
      MsgType: fc.constantFrom('text', 'event'),
      MsgId: fc.option(fc.constantFrom('1', '2', '6265881059295447969'), { nil: undefined }),
      Event: fc.option(fc.constantFrom('kf_create_session', 'subscribe'), { nil: undefined }),
      EventKey: fc.option(fc.constantFrom('', 'qrscene_1'), { nil: undefined }),
      KfAccount: fc.option(fc.constantFrom('a@gh', 'b@gh'), { nil: undefined }),
      Content: fc.string({ maxLength: 3 }),
    });
    const identity = (push: Record<string, string | undefined>) =>
      push.MsgId !== undefined
        ? ['m', push.FromUserName, push.MsgId]
        : [
            'e',
            push.FromUserName,
            push.CreateTime,
            push.MsgType,
            push.Event ?? '',
            push.EventKey ?? '',
            push.KfAccount ?? '',
          ];
    fc.assert(
      fc.property(pushArbitrary, pushArbitrary, (a, b) => {
        const pa = parsePush({ ToUserName: 'gh', ...withoutUndefined(a) });
        const pb = parsePush({ ToUserName: 'gh', ...withoutUndefined(b) });
        const sameIdentity = JSON.stringify(identity(a)) === JSON.stringify(identity(b));
        expect(pushRecordId(APP_ID, pa) === pushRecordId(APP_ID, pb)).toBe(sameIdentity);
      }),
      { numRuns: 500 },
    );
  });
});

describe('pushes that are not WeChat messages', () => {
  it.each([
    ['ToUserName', '<FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>'],
    ['FromUserName', '<ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>'],
    ['CreateTime', '<ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>'],
    ['MsgType', '<ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>'],
  ])('given a push without %s, when read, then WECHAT_PUSH_INVALID names the field', (field, fields) => {
    const error = errorOf(() => readPushXml(`<xml>${fields}<Content>secret words</Content></xml>`));
    expect(error.code).toBe('WECHAT_PUSH_INVALID');
    expect(error.message).toContain(field);
    expect(error.message).not.toContain('secret words');
    expect(error.details?.fields).toEqual([field]);
  });

  it.each([
    [
      'a CreateTime that is not unix seconds',
      '<CreateTime>yesterday</CreateTime><MsgType>text</MsgType>',
      'CreateTime',
    ],
    [
      'a CreateTime beyond any date',
      '<CreateTime>99999999999999999999</CreateTime><MsgType>text</MsgType>',
      'CreateTime',
    ],
    ['a MsgId that is not an integer', '<CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>1e3</MsgId>', 'MsgId'],
    [
      'Content given twice',
      '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>a</Content><Content>b</Content>',
      'Content',
    ],
    ['an element where text belongs', '<CreateTime>1</CreateTime><MsgType><a>text</a></MsgType>', 'MsgType'],
  ])('given %s, when read, then WECHAT_PUSH_INVALID names it', (_case, fields, field) => {
    const error = errorOf(() =>
      readPushXml(`<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>${fields}</xml>`),
    );
    expect(error.code).toBe('WECHAT_PUSH_INVALID');
    expect(error.message).toContain(field);
  });

  it('given malformed or DTD-carrying XML, when read, then the safe reader’s typed errors', () => {
    expect(errorOf(() => readPushXml('<xml><ToUserName>gh</ToUserName>')).code).toBe('WECHAT_CRYPTO_MALFORMED_XML');
    expect(errorOf(() => readPushXml('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')).code).toBe(
      'WECHAT_CRYPTO_FORBIDDEN_DTD',
    );
  });
});

describe('an encrypted push end to end', () => {
  it('given the official third-party-platform XML vector, when decrypted, read and normalized, then a system event record', () => {
    // https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/message_push.html
    const crypto = new WechatCallbackCrypto({
      receiveId: 'wx134c8103faa5a59e',
      token: 'AAAAA',
      encodingAesKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    const body =
      '<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt></xml>';
    const decrypted = crypto.decryptXml(body, {
      msgSignature: '6c12a4205838198b8fa631b3220723bb07f1015c',
      timestamp: '1715943329',
      nonce: '1590219412',
    });
    const record = normalizePush('wxba5fad812f8e6fb9', readPushXml(decrypted.message));
    expect(KefuRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      account: 'wxba5fad812f8e6fb9',
      customer: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      direction: 'system',
      kind: 'event',
      event: 'other',
      at: '2024-05-17T10:55:29.000Z',
      raw: { Event: 'debug_demo', debug_str: 'hello world' },
    });
  });
});

function withoutUndefined(value: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Record<string, string>;
}
