/**
 * Known-answer vectors of WXBizMsgCrypt, each copied verbatim from its source (cited per
 * vector: the official page's URL, or repository, path and the commit read). The
 * `random` prefixes are the ones the sources document, so encryption reproduces the
 * published ciphertexts byte for byte.
 */

/** The EncodingAESKey of the official examples: 43 × "A" (an all-zero AES key). */
export const OFFICIAL_KEY = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
/** The Token of the official examples. */
export const OFFICIAL_TOKEN = 'AAAAA';

/**
 * Official: mini-program / Official Account message push page, "发起验证" (GET URL check).
 * https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 * (the Official Account copy, doc/offiaccount/…/message-push.html, has the same example).
 */
export const officialUrlCheck = {
  token: OFFICIAL_TOKEN,
  timestamp: '1714036504',
  nonce: '1514711492',
  echostr: '4375120948345356249',
  signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
} as const;

/** Official: same page, "消息解密方式为明文模式" (plaintext POST, JSON body). */
export const officialPlaintextPush = {
  token: OFFICIAL_TOKEN,
  timestamp: '1714037059',
  nonce: '486452656',
  signature: '899cf89e464efb63f54ddac96b0a0a235f53aa78',
} as const;

/**
 * Official: same page, "消息解密方式为安全模式" (safe mode, data format JSON): the inbound
 * push. Base64 → 224 bytes ("TmpMsg 字节长度为224"), FullStr 205 bytes, msg_len 167, so the
 * PKCS#7 pad is 19 — above 16, which Node's default padding cannot strip.
 */
export const officialJsonInbound = {
  token: OFFICIAL_TOKEN,
  encodingAesKey: OFFICIAL_KEY,
  appId: 'wxba5fad812f8e6fb9',
  timestamp: '1714112445',
  nonce: '415670741',
  signature: '6c5c811b55cc85e0e1b54100749188c20beb3f5d',
  msgSignature: '046e02f8204d34f8ba5fa3b1db94908f3df2e9b3',
  encrypt:
    '+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=',
  random: 'a8eedb185eb2fecf',
  message:
    '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}',
  ciphertextBytes: 224,
  pad: 19,
} as const;

/** Official: same page, the encrypted reply (JSON): FullStr 63 bytes → 64 bytes, pad 1. */
export const officialJsonReply = {
  token: OFFICIAL_TOKEN,
  encodingAesKey: OFFICIAL_KEY,
  appId: 'wxba5fad812f8e6fb9',
  random: '707722b803182950',
  message: '{"demo_resp":"good luck"}',
  timestamp: '1713424427',
  nonce: '415670741',
  encrypt: 'ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==',
  msgSignature: '1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1',
  ciphertextBytes: 64,
  pad: 1,
} as const;

/**
 * Official: third-party platform message push page (data format XML only), the inbound
 * push: 352 bytes, FullStr 330, msg_len 292 (pad 22); appid = the platform's.
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/message_push.html
 */
export const officialXmlInbound = {
  token: OFFICIAL_TOKEN,
  encodingAesKey: OFFICIAL_KEY,
  appId: 'wx134c8103faa5a59e',
  timestamp: '1715943329',
  nonce: '1590219412',
  signature: 'cc0c594499c1634947d5b502f158ee518947db27',
  msgSignature: '6c12a4205838198b8fa631b3220723bb07f1015c',
  body: `<xml>
    <ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>
    <Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt>
</xml>`,
  random: '1205899eaf019bbd',
  message: `<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>
<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>
<CreateTime>1715943329</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[debug_demo]]></Event>
<debug_str><![CDATA[hello world]]></debug_str>
</xml>`,
  ciphertextBytes: 352,
  pad: 22,
} as const;

/**
 * Official: same page, the encrypted reply (XML): FullStr 90 → 96 bytes (pad 6). The
 * reply text is verbatim as published, `<![` lost in the page's rendering included.
 */
export const officialXmlReply = {
  token: OFFICIAL_TOKEN,
  encodingAesKey: OFFICIAL_KEY,
  appId: 'wx134c8103faa5a59e',
  random: '999951349e8ee746',
  message: '<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>',
  timestamp: '1713424427',
  nonce: '415670741',
  encrypt:
    'hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7',
  msgSignature: '03e0812039325c2712ef5f0f980fd14c70d6e307',
  ciphertextBytes: 96,
  pad: 6,
} as const;

/**
 * WxJava `weixin-java-common/src/test/java/me/chanjar/weixin/common/util/crypto/WxCryptUtilTest.java`
 * (binarywang/WxJava @ 3e48dc7f8378f919f734bc08ff1abd78720d9861): `testAesEncrypt` and
 * `testAesEncrypt2`, random "aaaabbbbccccdddd", Chinese text in both messages.
 */
export const wxJavaEncrypt = {
  token: 'pamtest',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wxb11529c136998cb6',
  random: 'aaaabbbbccccdddd',
  cases: [
    {
      name: 'testAesEncrypt',
      message: '我是中文abcd123',
      encrypt: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
    },
    {
      name: 'testAesEncrypt2',
      message:
        '<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>',
      encrypt:
        'jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb',
    },
  ],
} as const;

/**
 * EasyWeChat `tests/Kernel/EncryptorTest.php` `test_decrypt` (w7corp/easywechat, 6.x @
 * 7a93b804935c0eb4145552bce9cb56974d561c0a; the same vector in 5.x): an Official Account
 * push; `test_decrypt_with_error_received_id` decrypts it for "invalid appid".
 * Note EasyWeChat's argument order decrypt($ciphertext, $msgSignature, $nonce, $timestamp).
 */
export const easyWechatOfficialAccount = {
  token: 'pamtest',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wxb11529c136998cb6',
  msgSignature: '4f3ad57b6989f09f4eb392acce4f9e93942ed890',
  nonce: '260774613',
  timestamp: '1458300676',
  body: '<xml>\n    <ToUserName><![CDATA[asdasdasd]]></ToUserName>\n    <Encrypt><![CDATA[rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==]]></Encrypt>\n</xml>\n',
  expected: { ToUserName: 'asdasdasd', FromUserName: 'asdasdasdsadasd', CreateTime: '1234567898', Content: 'hello' },
} as const;

/**
 * The WeCom official example (WXBizMsgCrypt sample; corpid wx5823bf96d3bd56c7, token
 * QDG6eK), as EasyWeChat tests it (w7corp/easywechat 6.x @ 7a93b804935c0eb4145552bce9cb56974d561c0a):
 * `tests/Work/ServerTest.php` `test_it_will_handle_validation_request` (URL check → the
 * decrypted echostr) and `tests/Kernel/Traits/DecryptXmlMessageTest.php` (the message,
 * MsgId 4561255354251345929 > 2^53).
 */
export const wecomOfficialExample = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'wx5823bf96d3bd56c7',
  urlCheck: {
    msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    answer: '1616140317555161061',
  },
  message: {
    msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    body: `<xml>
                <ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>
                <Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>
                <AgentID><![CDATA[218]]></AgentID>
                </xml>`,
    expected: {
      ToUserName: 'wx5823bf96d3bd56c7',
      FromUserName: 'mycreate',
      CreateTime: '1409659813',
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
      AgentID: '218',
    },
  },
} as const;

/**
 * wechatpy `tests/test_crypto.py` (wechatpy/wechatpy @ 5b8502e3bc4abfee3abae77983e01633ed47cebf),
 * its WeCom vectors (`wechatpy.work.crypto`): `test_check_signature_should_ok` (URL check),
 * `test_encrypt_message` (random "1234567890123456", the exact reply XML) and
 * `test_decrypt_message`.
 */
export const wechatpyWecom = {
  token: '123456',
  encodingAesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR',
  corpId: 'wx49f0ab532d5d035a',
  urlCheck: {
    msgSignature: 'dd6b9c95b495b3f7e2901bfbc76c664930ffdb96',
    timestamp: '1411443780',
    nonce: '437374425',
    wrongNonce: '437374424',
    echostr: '4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==',
  },
  reply: {
    random: '1234567890123456',
    nonce: '461056294',
    timestamp: '1411525903',
    message: `<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>`,
    encrypt:
      '9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3',
    msgSignature: '407518b7649e86ef23978113f92d27afa9296533',
  },
  message: {
    msgSignature: '74d92dfeb87ba7c714f89d98870ae5eb62dff26d',
    timestamp: '1411525903',
    nonce: '461056294',
    body: `<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>`,
    expected: { Content: 'test', FromUserName: 'messense' },
  },
} as const;

/**
 * node-webot/wechat-crypto `test/crypto.test.js` "getSignature should ok" with
 * `test/config.js` (node-webot/wechat-crypto @ 50353375b4fde98bc89cb0790bce7561c7fecf80).
 */
export const nodeWebotSignature = {
  token: 'RMNlACHlV5ThzfRlVS4D4',
  encodingAesKey: 'bAZC8S8nz5fcQ0Ui2HxQVGbC6FzyrzWKSuDbmzpBo3G',
  corpId: 'wx1570bcc0b3cf8bd0',
  parts: ['timestamp', 'nonce', 'encrypt'],
  signature: '8edac0945683c119ee71c9f6256d76c48aa08a96',
} as const;
