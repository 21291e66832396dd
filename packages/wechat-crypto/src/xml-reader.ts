import { SaxesParser } from 'saxes';
import { wechatCryptoError } from './errors.js';

/**
 * A safe reader for the XML WeChat and WeCom post (`<xml>…</xml>`, wechat-push.md §4).
 * A conforming, well-formedness-checking parser (saxes) that never reads a DTD: a
 * document with a markup declaration (`<!DOCTYPE`, `<!ENTITY`, …) is refused before it is
 * parsed, so no entity can be defined, let alone expanded (billion laughs, quadratic
 * blow-up, external entities); only XML's five predefined entities and character
 * references are decoded. Every value stays a string (a `MsgId` is a 64-bit integer).
 * The body size limit is the caller's; here the nesting depth is bounded.
 */

/** A value of the read document: an element's text, its children, or repeated elements in order. */
export type XmlValue = string | XmlObject | XmlValue[];
/** An element with child elements: each child by name (a repeated name gives an array, in document order). */
export interface XmlObject {
  [name: string]: XmlValue;
}

/** Options of {@link readWechatXml}. */
export interface XmlReadOptions {
  /** Deepest element nesting accepted, the root counting 1. Default 16 (WeChat's payloads nest 3 deep). */
  maxDepth?: number;
}

/** The default nesting limit. */
export const DEFAULT_MAX_XML_DEPTH = 16;

interface OpenElement {
  readonly name: string;
  text: string;
  hasText: boolean;
  children: XmlObject | undefined;
}

/**
 * Reads a WeChat XML body into its root's children: `<xml><A>1</A><B><C>x</C></B></xml>`
 * gives `{ A: '1', B: { C: 'x' } }`. Text and CDATA are joined verbatim (never trimmed); an
 * empty element is `''`; an element with children is an object (whitespace between them is
 * layout); a name repeated among siblings gives an array; attributes and comments are
 * ignored (WeChat sends none). Throws `WECHAT_CRYPTO_FORBIDDEN_DTD` for a markup
 * declaration and `WECHAT_CRYPTO_MALFORMED_XML` for anything else it cannot read
 * unambiguously (not well-formed, truncated, a root other than `<xml>`, text mixed with
 * elements, nesting beyond `maxDepth`, an element named `__proto__`).
 */
export function readWechatXml(body: string, options: XmlReadOptions = {}): XmlObject {
  refuseMarkupDeclarations(body);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_XML_DEPTH;
  const stack: OpenElement[] = [];
  const document: { root?: OpenElement } = {};
  const malformed = (reason: string) =>
    wechatCryptoError('WECHAT_CRYPTO_MALFORMED_XML', `the XML body cannot be read: ${reason}`, {
      details: { bodyChars: body.length },
    });

  const parser = new SaxesParser();
  parser.on('doctype', () => {
    // Unreachable after the scan above; kept so the parser alone never accepts a DTD either.
    throw forbiddenDtd('<!DOCTYPE');
  });
  parser.on('opentag', (tag) => {
    if (stack.length === 0 && tag.name !== 'xml')
      throw malformed(`the root element is <${shortName(tag.name)}>, not <xml>`);
    if (stack.length >= maxDepth) throw malformed(`elements nest deeper than ${maxDepth} levels`);
    if (tag.name === '__proto__') throw malformed('an element is named __proto__');
    stack.push({ name: tag.name, text: '', hasText: false, children: undefined });
  });
  parser.on('text', (text) => {
    const current = stack.at(-1);
    if (!current) return; // whitespace around the root
    current.text += text;
    if (text.trim() !== '') current.hasText = true;
  });
  parser.on('cdata', (text) => {
    const current = stack.at(-1);
    if (!current) return;
    current.text += text;
    // CDATA is content even when blank: <Content><![CDATA[ ]]></Content> is a space.
    current.hasText = true;
  });
  parser.on('closetag', () => {
    const element = stack.pop() as OpenElement;
    if (element.children && element.hasText) throw malformed(`<${shortName(element.name)}> mixes text with elements`);
    const value: XmlValue = element.children ?? element.text;
    const parent = stack.at(-1);
    if (!parent) {
      document.root = element;
      return;
    }
    parent.children ??= {};
    // A single element's value is never an array, so an array means the name repeated.
    const previous = parent.children[element.name];
    if (previous === undefined) parent.children[element.name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else parent.children[element.name] = [previous, value];
  });

  try {
    parser.write(body).close();
  } catch (error) {
    if (isCryptoError(error)) throw error;
    throw wechatCryptoError(
      'WECHAT_CRYPTO_MALFORMED_XML',
      `the XML body is not well-formed: ${(error as Error).message}`,
      { cause: error, details: { bodyChars: body.length } },
    );
  }
  const { root } = document;
  if (!root) throw malformed('it has no <xml> root element');
  if (root.hasText && !root.children) throw malformed('<xml> holds text, not elements');
  return root.children ?? {};
}

/** An element name as quoted in a message: names come from the body, so long ones are cut. */
function shortName(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

function isCryptoError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code.startsWith('WECHAT_CRYPTO_')
  );
}

function forbiddenDtd(found: string) {
  return wechatCryptoError(
    'WECHAT_CRYPTO_FORBIDDEN_DTD',
    `the XML body contains a markup declaration (${found}); WeChat never sends a DTD, so the body is refused before any entity is read`,
  );
}

/**
 * Refuses every markup declaration (`<!` that opens neither a CDATA section nor a comment)
 * in one linear scan. Text cannot hold a raw `<`, so outside CDATA and comments `<!` is
 * always markup: `<![CDATA[<!DOCTYPE]]>` in a message stays readable content.
 */
function refuseMarkupDeclarations(body: string): void {
  let index = body.indexOf('<!');
  while (index !== -1) {
    if (body.startsWith('<![CDATA[', index)) {
      const end = body.indexOf(']]>', index + 9);
      if (end === -1) return; // unterminated: the parser reports it
      index = body.indexOf('<!', end + 3);
    } else if (body.startsWith('<!--', index)) {
      const end = body.indexOf('-->', index + 4);
      if (end === -1) return;
      index = body.indexOf('<!', end + 3);
    } else {
      const declaration = /^<![A-Za-z]*/.exec(body.slice(index, index + 12))?.[0] ?? '<!';
      throw forbiddenDtd(declaration);
    }
  }
}
