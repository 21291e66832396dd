import { describePublicApi } from '@kefu/testkit';

describePublicApi({
  main: {
    specifier: '@kefu/wechat-crypto',
    load: () => import('@kefu/wechat-crypto'),
    names: [
      'DEFAULT_MAX_XML_DEPTH',
      'PKCS7_BLOCK_SIZE',
      'RANDOM_PREFIX_SIZE',
      'WechatCallbackCrypto',
      'callbackSignature',
      'decodeEncodingAesKey',
      'decryptMessage',
      'encryptMessage',
      'encryptedReplyXml',
      'pkcs7Pad',
      'pkcs7Unpad',
      'readWechatXml',
      'signaturesEqual',
      'wechatCryptoError',
      'wechatCryptoErrorCatalogue',
    ],
  },
  readme: new URL('../README.md', import.meta.url),
});
