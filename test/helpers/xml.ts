/**
 * A small, strict XML 1.0 well-formedness parser for the documents the contracts render (the receipt's SVG card):
 * elements, attributes, character data, comments and the five predefined entities plus character references. No
 * DTDs, no CDATA, no namespaces beyond treating `xmlns` as an attribute. It throws on anything a conforming parser
 * would reject as not well-formed within that subset, and returns the tree with entities decoded, so tests can
 * compare what a viewer would display with the input.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /^[A-Za-z_:][A-Za-z0-9._:-]*/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decodes character data or an attribute value: every `&` must start a known entity or a character reference. */
function decodeText(raw: string, where: string): string {
  if (raw.includes("<")) throw new Error(`unescaped '<' in ${where}`);
  return raw.replace(/&([^;]*);?/g, (match, body: string) => {
    if (!match.endsWith(";")) throw new Error(`unterminated reference '${match}' in ${where}`);
    if (body in ENTITIES) return ENTITIES[body];
    const ref = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    if (!ref) throw new Error(`unknown entity '&${body};' in ${where}`);
    const cp = ref[1] !== undefined ? parseInt(ref[1], 16) : parseInt(ref[2], 10);
    if (!isXmlChar(cp)) throw new Error(`reference to a non-XML character '&${body};' in ${where}`);
    return String.fromCodePoint(cp);
  });
}

/**
 * Parses `bytes` (UTF-8) as a well-formed XML document with one root element, or throws saying why not.
 */
export function parseXml(bytes: Uint8Array): XmlElement {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // throws on malformed UTF-8
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (!isXmlChar(cp)) throw new Error(`character U+${cp.toString(16).toUpperCase()} is not allowed in XML`);
  }
  if (text.includes("]]>")) throw new Error("']]>' outside a CDATA section");

  let pos = 0;
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  const skipSpace = () => {
    while (pos < text.length && /[ \t\r\n]/.test(text[pos])) pos++;
  };
  const readName = (): string => {
    const m = NAME.exec(text.slice(pos));
    if (!m) throw new Error(`expected a name at offset ${pos}`);
    pos += m[0].length;
    return m[0];
  };

  while (pos < text.length) {
    if (text.startsWith("<!--", pos)) {
      const end = text.indexOf("-->", pos + 4);
      if (end < 0 || text.slice(pos + 4, end).includes("--")) throw new Error(`bad comment at offset ${pos}`);
      pos = end + 3;
    } else if (text.startsWith("</", pos)) {
      pos += 2;
      const name = readName();
      skipSpace();
      if (text[pos] !== ">") throw new Error(`expected '>' closing </${name}> at offset ${pos}`);
      pos++;
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name ?? "nothing"}>`);
    } else if (text[pos] === "<") {
      pos++;
      const element: XmlElement = { name: readName(), attributes: {}, children: [] };
      if (stack.length === 0 && root) throw new Error(`second root element <${element.name}>`);
      for (;;) {
        const before = pos;
        skipSpace();
        if (text.startsWith("/>", pos) || text[pos] === ">") break;
        if (pos === before) throw new Error(`expected whitespace before an attribute at offset ${pos}`);
        const attribute = readName();
        skipSpace();
        if (text[pos] !== "=") throw new Error(`expected '=' after ${attribute} at offset ${pos}`);
        pos++;
        skipSpace();
        const quote = text[pos];
        if (quote !== '"' && quote !== "'")
          throw new Error(`unquoted value of ${attribute} at offset ${pos}`);
        const end = text.indexOf(quote, pos + 1);
        if (end < 0) throw new Error(`unterminated value of ${attribute}`);
        if (attribute in element.attributes) throw new Error(`duplicate attribute ${attribute}`);
        element.attributes[attribute] = decodeText(text.slice(pos + 1, end), `attribute ${attribute}`);
        pos = end + 1;
      }
      if (stack.length > 0) stack[stack.length - 1].children.push(element);
      else root = element;
      if (text[pos] === ">") {
        stack.push(element);
        pos++;
      } else {
        pos += 2;
      }
    } else {
      const end = text.indexOf("<", pos);
      const raw = text.slice(pos, end < 0 ? text.length : end);
      if (stack.length === 0) {
        if (raw.trim() !== "") throw new Error(`character data outside the root element at offset ${pos}`);
      } else {
        stack[stack.length - 1].children.push(decodeText(raw, `<${stack[stack.length - 1].name}>`));
      }
      pos += raw.length;
    }
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> is not closed`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element of the tree, depth first. */
export function elements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap((c) => (typeof c === "string" ? [] : elements(c)))];
}

/** The concatenated character data of `element` and its descendants. */
export function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}
