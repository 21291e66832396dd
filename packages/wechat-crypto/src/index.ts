/**
 * @kefu/wechat-crypto — the callback crypto WeChat Official Accounts and WeCom share
 * (WXBizMsgCrypt): signatures, AES-256-CBC with 32-byte PKCS#7, URL verification, key
 * rotation, encrypted replies, and a safe reader for the XML they post.
 */
export * from './callback-crypto.js';
export * from './errors.js';
export * from './message-cipher.js';
export * from './signature.js';
export * from './xml-reader.js';
