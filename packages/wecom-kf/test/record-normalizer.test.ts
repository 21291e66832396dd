import { KefuRecordSchema } from '@kefu/core';
import { describe, expect, it } from 'vitest';
import { itemAccount, normalizeItem, parseSyncMsgItem } from '../src/wire.js';

// Payloads from wecom-kf.md §3.2 and §4 (the doc's response sample: msgid
// "from_msgid_4622416642169452483", send_time 1615478585; field tables of §4.1 and §4.2).
const BASE = {
  msgid: 'from_msgid_4622416642169452483',
  open_kfid: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q',
  external_userid: 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw',
  send_time: 1615478585,
  origin: 3,
};

function recordOf(item: Record<string, unknown>) {
  const record = normalizeItem(BASE.open_kfid, parseSyncMsgItem(item));
  expect(KefuRecordSchema.parse(record)).toEqual(record);
  return record;
}

describe('customer and servicer messages (wecom-kf.md §4.1)', () => {
  it('given a customer text, when normalized, then an inbound text record of the external_userid at send_time (s)', () => {
    const record = recordOf({ ...BASE, msgtype: 'text', text: { content: 'hello world', menu_id: '101' } });
    expect(record).toMatchObject({
      id: BASE.msgid,
      provider: 'wecom-kf',
      account: BASE.open_kfid,
      customer: BASE.external_userid,
      direction: 'inbound',
      kind: 'text',
      text: 'hello world',
      at: '2021-03-11T16:03:05.000Z',
    });
    expect(record.raw).toEqual({ ...BASE, msgtype: 'text', text: { content: 'hello world', menu_id: '101' } });
  });

  it('given a servicer reply from the WeCom client (origin 5), when normalized, then outbound with the servicer as agent', () => {
    const record = recordOf({
      ...BASE,
      origin: 5,
      servicer_userid: 'zhangsan',
      msgtype: 'text',
      text: { content: 'hi' },
    });
    expect(record).toMatchObject({ direction: 'outbound', agent: 'zhangsan' });
  });

  it.each([
    ['image', 'image'],
    ['voice', 'voice'],
    ['video', 'video'],
    ['file', 'file'],
  ] as const)('given a %s message, when normalized, then its media_id is the media key', (msgtype, kind) => {
    const record = recordOf({
      ...BASE,
      msgtype,
      [msgtype]: { media_id: '2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw' },
    });
    expect(record).toMatchObject({ kind, media: { key: '2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw' } });
  });

  it('normalizes location, link, business_card and miniprogram to their attachments', () => {
    expect(
      recordOf({
        ...BASE,
        msgtype: 'location',
        location: { latitude: 23.1, longitude: 113.3, name: '广州国际媒体港', address: '广州市海珠区' },
      }),
    ).toMatchObject({ kind: 'location', location: { title: '广州国际媒体港', address: '广州市海珠区' } });
    expect(
      recordOf({
        ...BASE,
        msgtype: 'link',
        link: { title: '标题', desc: '描述', url: 'https://work.weixin.qq.com', pic_url: 'https://p/1.png' },
      }),
    ).toMatchObject({
      kind: 'link',
      link: { title: '标题', description: '描述', url: 'https://work.weixin.qq.com', thumbUrl: 'https://p/1.png' },
    });
    expect(recordOf({ ...BASE, msgtype: 'business_card', business_card: { userid: 'lisi' } })).toMatchObject({
      kind: 'card',
      card: { description: 'lisi' },
    });
    expect(
      recordOf({
        ...BASE,
        msgtype: 'miniprogram',
        miniprogram: {
          appid: 'wx8bd80126147dfAAA',
          title: '欢迎报名',
          thumb_media_id: 'MEDIA',
          pagepath: 'path/index',
        },
      }),
    ).toMatchObject({
      kind: 'miniprogram',
      miniprogram: { appId: 'wx8bd80126147dfAAA', title: '欢迎报名', pagePath: 'path/index', coverKey: 'MEDIA' },
    });
  });

  it('normalizes a menu to its lines, channels shop product/order to links, merged_msg to a chat history, channels to a channels video', () => {
    const menu = recordOf({
      ...BASE,
      msgtype: 'msgmenu',
      msgmenu: {
        head_content: '您对本次服务是否满意呢? ',
        list: [
          { type: 'click', click: { id: '101', content: '满意' } },
          { type: 'view', view: { url: 'https://x', content: '点击跳转' } },
          { type: 'text', text: { content: '纯文本', no_newline: 0 } },
        ],
        tail_content: '欢迎再次光临',
      },
    });
    expect(menu).toMatchObject({
      kind: 'text',
      text: '您对本次服务是否满意呢? \n满意\n点击跳转\n纯文本\n欢迎再次光临',
    });
    expect(
      recordOf({
        ...BASE,
        msgtype: 'channels_shop_product',
        channels_shop_product: { product_id: '1', head_img: 'h', title: '商品', sales_price: 0, shop_nickname: '店' },
      }),
    ).toMatchObject({ kind: 'link', link: { title: '商品', thumbUrl: 'h' } });
    expect(
      recordOf({
        ...BASE,
        msgtype: 'channels_shop_order',
        channels_shop_order: {
          order_id: '1',
          product_titles: '商品A',
          price_wording: '¥1',
          state: '待发货',
          image_url: 'i',
          shop_nickname: '店',
        },
      }),
    ).toMatchObject({ kind: 'link', link: { title: '商品A', description: '¥1' } });
    expect(
      recordOf({
        ...BASE,
        msgtype: 'merged_msg',
        merged_msg: {
          title: '聊天记录',
          item: [
            {
              send_time: 1,
              msgtype: 'text',
              sender_name: 'A',
              msg_content: '{"msgtype":"text","text":{"content":"消息内容"}}',
            },
          ],
        },
      }),
    ).toMatchObject({ kind: 'chat_history', text: '聊天记录' });
    expect(
      recordOf({ ...BASE, msgtype: 'channels', channels: { sub_type: 1, nickname: '视频号', title: '动态' } }),
    ).toMatchObject({
      kind: 'channels_video',
      link: { title: '动态' },
      card: { nickname: '视频号' },
    });
  });

  it.each(['meeting', 'schedule', 'note', 'a_type_added_later'])(
    'given a %s message (payload undocumented), when normalized, then kind unknown with the item kept in raw',
    (msgtype) => {
      const item = { ...BASE, msgtype, [msgtype]: { anything: [1, 2] } };
      expect(recordOf(item)).toMatchObject({ kind: 'unknown', raw: item });
    },
  );

  it('refuses an item without msgid or send_time with WECOM_BAD_RESPONSE naming the fields', () => {
    expect(() => parseSyncMsgItem({ origin: 3, msgtype: 'text' })).toThrow(
      expect.objectContaining({ code: 'WECOM_BAD_RESPONSE', message: expect.stringContaining('msgid') }),
    );
  });
});

describe('events (wecom-kf.md §4.2): origin 4, open_kfid and external_userid inside `event`', () => {
  const event = (fields: Record<string, unknown>) => ({
    msgid: 'event_msgid_1',
    send_time: 1615478585,
    origin: 4,
    msgtype: 'event',
    event: { open_kfid: BASE.open_kfid, external_userid: BASE.external_userid, ...fields },
  });

  it('takes the account and customer from inside the event', () => {
    const parsed = parseSyncMsgItem(
      event({ event_type: 'enter_session', scene: '123', scene_param: 'abc', welcome_code: 'aaaaaa' }),
    );
    expect(itemAccount(parsed)).toBe(BASE.open_kfid);
    expect(recordOf(event({ event_type: 'enter_session', scene: '123', welcome_code: 'aaaaaa' }))).toMatchObject({
      customer: BASE.external_userid,
      direction: 'system',
      kind: 'event',
      event: 'session_created',
      text: 'enter_session',
    });
  });

  it.each([
    [1, 'session_accepted'],
    [2, 'session_transferred'],
    [3, 'session_closed'],
    [4, 'session_accepted'],
  ] as const)('maps session_status_change change_type %i to %s', (changeType, sessionEvent) => {
    const record = recordOf(
      event({
        event_type: 'session_status_change',
        change_type: changeType,
        new_servicer_userid: 'zhangsan',
        msg_code: 'c',
      }),
    );
    expect(record).toMatchObject({ event: sessionEvent, agent: 'zhangsan' });
  });

  it('keeps msg_send_fail, recalls and switch changes as `other` events naming the message', () => {
    expect(recordOf(event({ event_type: 'msg_send_fail', fail_msgid: 'FAIL1', fail_type: 4 }))).toMatchObject({
      event: 'other',
      text: 'msg_send_fail FAIL1',
    });
    expect(recordOf(event({ event_type: 'user_recall_msg', recall_msgid: 'R1' }))).toMatchObject({
      text: 'user_recall_msg R1',
    });
    expect(
      recordOf(event({ event_type: 'servicer_recall_msg', recall_msgid: 'R2', servicer_userid: 'lisi' })),
    ).toMatchObject({
      text: 'servicer_recall_msg R2',
      agent: 'lisi',
    });
    expect(
      recordOf(event({ event_type: 'reject_customer_msg_switch_change', servicer_userid: 'lisi', reject_switch: 1 })),
    ).toMatchObject({ event: 'other', text: 'reject_customer_msg_switch_change' });
  });

  it('gives servicer_status_change (no customer) the account as customer and the servicer as agent', () => {
    const item = {
      msgid: 'event_msgid_2',
      send_time: 1615478585,
      origin: 4,
      msgtype: 'event',
      event: {
        event_type: 'servicer_status_change',
        servicer_userid: 'zhangsan',
        open_kfid: BASE.open_kfid,
        status: 2,
        stop_type: 1,
      },
    };
    expect(recordOf(item)).toMatchObject({
      customer: BASE.open_kfid,
      agent: 'zhangsan',
      kind: 'event',
      event: 'other',
    });
  });
});
