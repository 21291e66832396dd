import { describe, expect, it } from 'vitest';
import { readWechatXml } from '../src/index.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('reading WeChat XML', () => {
  it('given a text push with CDATA, when read, then every field is a string and the 64-bit MsgId is exact', () => {
    const fields = readWechatXml(`<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>6265881059295447969</MsgId>
</xml>`);
    expect(fields).toEqual({
      ToUserName: 'toUser',
      FromUserName: 'fromUser',
      CreateTime: '1348831860',
      MsgType: 'text',
      Content: 'this is a test',
      MsgId: '6265881059295447969',
    });
    expect(BigInt(fields.MsgId as string)).toBe(6265881059295447969n);
  });

  it('given nested event bodies (ScanCodeInfo, TransInfo, a repeated item list), when read, then objects and arrays in document order', () => {
    const fields = readWechatXml(`<xml><MsgType><![CDATA[event]]></MsgType>
<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>
<TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo>
<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo>
</xml>`);
    expect(fields).toEqual({
      MsgType: 'event',
      ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' },
      TransInfo: { KfAccount: 'test1@test' },
      SendPicsInfo: { Count: '2', PicList: { item: [{ PicMd5Sum: 'aaa' }, { PicMd5Sum: 'bbb' }] } },
    });
  });

  it('given text, CDATA and entities in one element, blanks and an empty element, when read, then joined verbatim, never trimmed', () => {
    const fields = readWechatXml(
      '<xml><A> a&amp;b <![CDATA[<c> ]]>&#x1F600;&#20013;</A><B><![CDATA[ ]]></B><C/><D></D><E>  </E></xml>',
    );
    expect(fields).toEqual({ A: ' a&b <c> 😀中', B: ' ', C: '', D: '', E: '  ' });
  });

  it('given a message whose CDATA text contains "<!DOCTYPE" and "<!ENTITY", when read, then it is content, not a declaration', () => {
    const fields = readWechatXml('<xml><Content><![CDATA[look: <!DOCTYPE x [<!ENTITY y "z">]>]]></Content></xml>');
    expect(fields.Content).toBe('look: <!DOCTYPE x [<!ENTITY y "z">]>');
  });

  it('given an XML declaration, comments and attributes, when read, then they are ignored', () => {
    expect(
      readWechatXml(
        '<?xml version="1.0" encoding="UTF-8"?><!-- c --><xml a="1"><A b="2">x</A><!-- <!DOCTYPE --></xml>',
      ),
    ).toEqual({ A: 'x' });
  });
});

describe('refusing what WeChat never sends', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><Content>&lol9;</Content></xml>`;

  it('given a billion-laughs document, when read, then WECHAT_CRYPTO_FORBIDDEN_DTD before any entity is expanded', () => {
    expect(codeOf(() => readWechatXml(billionLaughs))).toBe('WECHAT_CRYPTO_FORBIDDEN_DTD');
  });

  it('given a quadratic-blowup document (one 50 kB entity referenced 20 000 times), when read, then WECHAT_CRYPTO_FORBIDDEN_DTD', () => {
    const big = 'x'.repeat(50_000);
    const document = `<!DOCTYPE q [<!ENTITY a "${big}">]><xml><Content>${'&a;'.repeat(20_000)}</Content></xml>`;
    expect(codeOf(() => readWechatXml(document))).toBe('WECHAT_CRYPTO_FORBIDDEN_DTD');
  });

  it('given the same references without a DTD, when read, then WECHAT_CRYPTO_MALFORMED_XML (undefined entity), nothing expanded', () => {
    expect(codeOf(() => readWechatXml(`<xml><Content>${'&a;'.repeat(20_000)}</Content></xml>`))).toBe(
      'WECHAT_CRYPTO_MALFORMED_XML',
    );
  });

  it.each([
    ['an external entity', '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'],
    ['a bare DOCTYPE', '<!DOCTYPE xml><xml/>'],
    ['an ENTITY declaration inside the root', '<xml><!ENTITY a "b"><A/></xml>'],
    ['a lower-case doctype', '<!doctype xml><xml/>'],
    ['an ELEMENT declaration', '<xml><!ELEMENT a ANY></xml>'],
  ])('given %s, when read, then WECHAT_CRYPTO_FORBIDDEN_DTD', (_case, document) => {
    expect(codeOf(() => readWechatXml(document))).toBe('WECHAT_CRYPTO_FORBIDDEN_DTD');
  });

  it.each([
    ['a truncated body', '<xml><ToUserName><![CDATA[toUser]]></ToUserName><Content><![CDATA[hal'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['two roots', '<xml/><xml/>'],
    ['another root than <xml>', '<root><A>1</A></root>'],
    ['an empty body', ''],
    ['JSON', '{"ToUserName":"gh"}'],
    ['text in the root', '<xml>hello</xml>'],
    ['text mixed with elements', '<xml><A>x<B>y</B></A></xml>'],
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['an element named __proto__', '<xml><__proto__><polluted>1</polluted></__proto__></xml>'],
    ['nesting deeper than 16', `<xml>${'<a>'.repeat(16)}x${'</a>'.repeat(16)}</xml>`],
  ])('given %s, when read, then WECHAT_CRYPTO_MALFORMED_XML', (_case, document) => {
    expect(codeOf(() => readWechatXml(document))).toBe('WECHAT_CRYPTO_MALFORMED_XML');
  });

  it('given 100 000 nested elements, when read, then WECHAT_CRYPTO_MALFORMED_XML without exhausting the stack', () => {
    const deep = `<xml>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</xml>`;
    expect(codeOf(() => readWechatXml(deep))).toBe('WECHAT_CRYPTO_MALFORMED_XML');
  });

  it('given nesting of exactly 16 levels (root included), when read, then accepted', () => {
    expect(readWechatXml(`<xml>${'<a>'.repeat(15)}x${'</a>'.repeat(15)}</xml>`)).toBeTruthy();
  });
});
