import { defineErrorCatalogue, type ErrorCatalogueEntry } from '@kefu/core/errors';

/**
 * The error catalogue of @kefu/wechat-crypto. Messages say what was wrong and how to fix
 * it; none ever contains the token, the EncodingAESKey or a decrypted message (a push is
 * customer data, and the secrets are registered for redaction besides).
 */
export const wechatCryptoErrorCatalogue = {
  WECHAT_CRYPTO_BAD_KEY: {
    description:
      'The EncodingAESKey is missing or does not decode to 32 bytes (it must be the 43 characters from the admin console).',
    fix: 'Copy the EncodingAESKey again from the WeChat / WeCom admin console (43 letters and digits, no "=" and no spaces) into `encodingAesKey`; it is needed for the compatible and safe modes and for WeCom.',
  },
  WECHAT_CRYPTO_BAD_SIGNATURE: {
    description:
      'A callback request has a missing or wrong `signature` / `msg_signature`: it was not signed with the configured token (a forged request, a wrong token, or a body changed on the way).',
    fix: 'Check that `token` is the one in the admin console (and `previousToken` while you rotate it); answer nothing so WeChat retries. A proxy must pass the query string and the body unchanged.',
  },
  WECHAT_CRYPTO_MISSING_PARAMETER: {
    description:
      'A callback request lacks a value the scheme needs: a query parameter (`timestamp`, `nonce`, `signature`, `msg_signature`, `echostr`) or the `Encrypt` element.',
    fix: 'Nothing to configure if the request did not come from WeChat; otherwise check that a proxy passes the whole query string and body. Answer 400.',
  },
  WECHAT_CRYPTO_BAD_RECEIVE_ID: {
    description:
      'A message decrypted correctly but names another receiver: its appid (Official Account) or corpid (WeCom) is not the configured one.',
    fix: 'Set `receiveId` to the AppID of this Official Account (or the CorpID for WeCom); a push for another account reached this URL.',
  },
  WECHAT_CRYPTO_BAD_PADDING: {
    description:
      'A decrypted message does not end in valid 32-byte PKCS#7 padding: it was encrypted with another EncodingAESKey, or the ciphertext is damaged.',
    fix: 'Check `encodingAesKey` (and set `previousEncodingAesKey` to the old key while you rotate it).',
  },
  WECHAT_CRYPTO_BAD_CIPHERTEXT: {
    description:
      'An `Encrypt` value is not a WXBizMsgCrypt ciphertext: not base64, not whole AES blocks, or a length field that points outside the message.',
    fix: 'The request body was damaged or is not a WeChat callback; nothing to configure. If it persists with valid signatures, report it.',
  },
  WECHAT_CRYPTO_STALE_TIMESTAMP: {
    description:
      'A callback `timestamp` is outside the freshness window you configured (WeChat documents no window; the check is optional).',
    fix: "Check the host clock (NTP); widen `timestampWindowSeconds` or leave it unset to accept WeChat's retries of old pushes.",
  },
  WECHAT_CRYPTO_MALFORMED_XML: {
    description:
      'A callback body is not the XML WeChat sends: not well-formed, truncated, another root than <xml>, mixed content, nested too deeply, or a required element missing.',
    fix: 'Nothing to configure: answer 400 so the sender sees it. A proxy must pass the body unchanged and whole.',
  },
  WECHAT_CRYPTO_FORBIDDEN_DTD: {
    description:
      'A callback body contains a document type declaration (<!DOCTYPE, <!ENTITY …). WeChat never sends one; it is how XML entity-expansion attacks start.',
    fix: 'Nothing to configure: the request is refused before any entity is read. Answer 400.',
  },
  WECHAT_CRYPTO_CONFIG_INVALID: {
    description:
      'The callback crypto was configured with an empty token or receiveId, a timestamp window that is not a positive number of seconds, or a random source that does not give the bytes asked for.',
    fix: 'Set `token` (3–32 characters, as in the admin console), `receiveId` (the AppID, or the CorpID for WeCom) and, if you want one, `timestampWindowSeconds` > 0; a `randomBytes(size)` you pass must return `size` bytes.',
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** A @kefu/wechat-crypto error code. */
export type WechatCryptoErrorCode = keyof typeof wechatCryptoErrorCatalogue;

/** Creates a @kefu/wechat-crypto error by code. */
export const wechatCryptoError = defineErrorCatalogue(wechatCryptoErrorCatalogue);
