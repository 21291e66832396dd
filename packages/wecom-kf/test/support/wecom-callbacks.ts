import { WechatCallbackCrypto } from '@kefu/wechat-crypto';

/** The callback settings the tests configure. */
export const CALLBACK = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
} as const;

/** The doc's decrypted kf_msg_or_event sample (wecom-kf.md §5.2), with a token and account of ours. */
export function kfMsgOrEventXml(corpId: string, token: string, openKfId: string, createTime = 1348831860): string {
  return `<xml>
   <ToUserName><![CDATA[${corpId}]]></ToUserName>
   <CreateTime>${createTime}</CreateTime>
   <MsgType><![CDATA[event]]></MsgType>
   <Event><![CDATA[kf_msg_or_event]]></Event>
   <Token><![CDATA[${token}]]></Token>
   <OpenKfId><![CDATA[${openKfId}]]></OpenKfId>
</xml>`;
}

/** What WeCom sends: the query and the encrypted body of a callback, encrypted for `receiveId`. */
export function encryptedCallback(
  receiveId: string,
  plaintext: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
): { query: URLSearchParams; body: string } {
  const crypto = new WechatCallbackCrypto({ receiveId, ...CALLBACK });
  const reply = crypto.encryptReply(plaintext, { nonce: '1372623149', timestamp });
  return {
    query: new URLSearchParams({ msg_signature: reply.msgSignature, timestamp, nonce: reply.nonce }),
    body: `<xml><ToUserName><![CDATA[${receiveId}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${reply.encrypt}]]></Encrypt></xml>`,
  };
}

/** A URL verification (GET): msg_signature over the encrypted echostr. */
export function urlVerification(receiveId: string, echo: string, timestamp = String(Math.floor(Date.now() / 1000))) {
  const encrypted = encryptedCallback(receiveId, echo, timestamp);
  const encrypt = /<Encrypt><!\[CDATA\[(.*)\]\]><\/Encrypt>/.exec(encrypted.body)?.[1] ?? '';
  const query = new URLSearchParams({
    msg_signature: encrypted.query.get('msg_signature') ?? '',
    timestamp,
    nonce: encrypted.query.get('nonce') ?? '',
    echostr: encrypt,
  });
  return query;
}
