import type { JsonValue, KefuRecord } from '@kefu/core';
import { messageFields, WECOM_KF_PLATFORM } from './record-normalizer.js';
import type { KfOutgoingMessage } from './wecom-kf-schemas.js';

/** What a message sent with `kf/send_msg` is made of. */
export interface SentMessage {
  account: string;
  customer: string;
  /** The msgid send_msg answered (or the one given). */
  msgid: string;
  message: KfOutgoingMessage;
  /** When it was sent, ms. */
  at: number;
}

/**
 * The outbound record of a message sent with `kf/send_msg`: sync_msg never returns those
 * ("不支持读取通过发送消息接口发送的消息", doc 31078), so this is the only record of them. Its
 * `raw` is the request as sent plus the msgid, marked `"source": "kf/send_msg"`; its id is the
 * msgid, the identity a later msg_send_fail event names in `fail_msgid`.
 */
export function sentRecord(sent: SentMessage): KefuRecord {
  const raw: Record<string, JsonValue> = {
    source: 'kf/send_msg',
    msgid: sent.msgid,
    open_kfid: sent.account,
    touser: sent.customer,
    send_time: Math.floor(sent.at / 1000),
    ...(JSON.parse(JSON.stringify(sent.message)) as Record<string, JsonValue>),
  };
  return {
    id: sent.msgid,
    provider: WECOM_KF_PLATFORM,
    account: sent.account,
    customer: sent.customer,
    direction: 'outbound',
    kind: 'unknown',
    ...messageFields(sent.message.msgtype, raw),
    at: new Date(sent.at).toISOString(),
    raw,
  };
}
