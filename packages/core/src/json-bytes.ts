/**
 * JSON.parse of a UTF-8 body without decoding it into one large string. V8 allocates a
 * string above 128 KiB in its large-object space, and creating one measured 1.0–1.4 µs
 * per getmsglist record here (a 2 000-record page is 278 KB of UTF-8, 500 KB of UTF-16):
 * more than parsing it. So a large body is parsed in pieces of at most
 * {@link PIECE_BYTES}: the containers around its arrays member by member, each array in
 * runs of items that JSON.parse reads at once.
 *
 * Correctness does not depend on guessing right. Every byte is read either by JSON.parse
 * (a run, a key, a scalar) or by a check of the structural byte expected there, so the
 * pieces parse exactly when the whole text does, to the same value; anything unexpected
 * throws, and the whole text is then parsed as one string (same value or same SyntaxError).
 */

/** Largest run of bytes decoded as one string: below the large-object size even as UTF-16. */
const PIECE_BYTES = 32 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Nesting beyond which a body is parsed whole (see `#containerAt`). */
const MAX_DEPTH = 16;
/** Between two objects in an array, as every platform writes it: where runs are cut first. */
const OBJECT_SEPARATOR = Buffer.from('},{');

/** A byte sequence the piecewise parse does not accept; the whole-text parse then decides. */
class NotPiecewise extends Error {}

/** Where a run is decoded with the brackets around it (one string, no concatenation); parsing is synchronous. */
const sharedScratch = Buffer.allocUnsafe(PIECE_BYTES + 2);

/** Options of {@link parseJsonBytes}. */
export interface ParseJsonBytesOptions {
  /** Largest piece decoded into one string, in bytes (default 32 KiB; tests use small pieces to cut often). */
  pieceBytes?: number;
}

/**
 * Parses UTF-8 JSON bytes: the same value as `JSON.parse(bytes.toString('utf8'))`, and
 * the same SyntaxError when they are not JSON. Bodies larger than a piece are parsed
 * piecewise (see the module comment), which keeps each string below V8's large-object size.
 */
export function parseJsonBytes(bytes: Buffer, options: ParseJsonBytesOptions = {}): unknown {
  const pieceBytes = options.pieceBytes ?? PIECE_BYTES;
  if (bytes.length > pieceBytes) {
    try {
      return new PiecewiseParser(bytes, pieceBytes).parse();
    } catch {
      // NotPiecewise or a piece's SyntaxError: the whole text decides.
    }
  }
  return JSON.parse(bytes.toString('utf8'));
}

/** One piecewise parse of a body. */
class PiecewiseParser {
  readonly #bytes: Buffer;
  readonly #pieceBytes: number;
  readonly #scratch: Buffer;
  /** Containers open around the current position. */
  #depth = 0;

  constructor(bytes: Buffer, pieceBytes: number) {
    this.#bytes = bytes;
    this.#pieceBytes = pieceBytes;
    this.#scratch = pieceBytes <= PIECE_BYTES ? sharedScratch : Buffer.allocUnsafe(pieceBytes + 2);
  }

  /** The body's value; throws when it is not a container followed by whitespace only. */
  parse(): unknown {
    const { value, end } = this.#containerAt(this.#skipWhitespace(0));
    if (this.#skipWhitespace(end) !== this.#bytes.length) throw new NotPiecewise();
    return value;
  }

  /** The array or object opening at `start`, and the index after it. */
  #containerAt(start: number): { value: unknown; end: number } {
    const open = this.#bytes[start];
    if (open !== OPEN_BRACKET && open !== OPEN_BRACE) throw new NotPiecewise();
    // A large item is scanned once per level it is nested in: bodies nest two or three
    // levels; deeper ones are parsed whole rather than rescanned level after level.
    if (++this.#depth > MAX_DEPTH) throw new NotPiecewise();
    const container = open === OPEN_BRACKET ? this.#arrayAt(start) : this.#objectAt(start);
    this.#depth--;
    return container;
  }

  /** Any value starting at `start` (no whitespace before it), and the index after it. */
  #valueAt(start: number): { value: unknown; end: number } {
    const bytes = this.#bytes;
    const first = bytes[start];
    if (first === OPEN_BRACKET || first === OPEN_BRACE) return this.#containerAt(start);
    let end: number;
    if (first === QUOTE) {
      end = this.#closingQuote(start) + 1;
    } else {
      // A number, true, false or null runs to the next delimiter; JSON.parse checks it.
      end = start;
      while (end < bytes.length && !isDelimiter(bytes[end] as number)) end++;
    }
    return { value: JSON.parse(bytes.toString('utf8', start, end)), end };
  }

  /** An object member by member: each key and scalar parsed on its own, a container recursively. */
  #objectAt(open: number): { value: object; end: number } {
    const bytes = this.#bytes;
    const object: Record<string, unknown> = {};
    let index = this.#skipWhitespace(open + 1);
    if (bytes[index] === CLOSE_BRACE) return { value: object, end: index + 1 };
    for (;;) {
      if (bytes[index] !== QUOTE) throw new NotPiecewise();
      const keyEnd = this.#closingQuote(index) + 1;
      const key = JSON.parse(bytes.toString('utf8', index, keyEnd)) as string;
      index = this.#skipWhitespace(keyEnd);
      if (bytes[index] !== COLON) throw new NotPiecewise();
      const member = this.#valueAt(this.#skipWhitespace(index + 1));
      // JSON.parse makes "__proto__" an own property, where an assignment would set the prototype.
      Object.defineProperty(object, key, { value: member.value, writable: true, enumerable: true, configurable: true });
      index = this.#skipWhitespace(member.end);
      if (bytes[index] === CLOSE_BRACE) return { value: object, end: index + 1 };
      if (bytes[index] !== COMMA) throw new NotPiecewise();
      index = this.#skipWhitespace(index + 1);
    }
  }

  /**
   * An array: runs of objects cut at `},{` (found without reading the bytes between), then
   * the rest scanned item by item. A cut inside a string or inside an item leaves its run
   * unbalanced, and one past the array's end leaves bytes after the run's closing bracket:
   * either fails to parse, and the scan takes over from the run's start.
   */
  #arrayAt(open: number): { value: unknown[]; end: number } {
    const items: unknown[] = [];
    let start = open + 1;
    for (;;) {
      const cut = this.#bytes.lastIndexOf(OBJECT_SEPARATOR, start + this.#pieceBytes - 1);
      if (cut <= start || !this.#pushRun(start, cut + 1, items)) break;
      start = cut + 2;
    }
    return this.#scanArrayRest(start, items);
  }

  /**
   * Parses bytes [start, end) as the items of an array and appends them; false (nothing
   * appended) when they are not a sequence of JSON values.
   */
  #pushRun(start: number, end: number, items: unknown[]): boolean {
    const scratch = this.#scratch;
    scratch[0] = OPEN_BRACKET;
    this.#bytes.copy(scratch, 1, start, end);
    scratch[end - start + 1] = CLOSE_BRACKET;
    let run: unknown[];
    try {
      run = JSON.parse(scratch.toString('utf8', 0, end - start + 2)) as unknown[];
    } catch {
      return false;
    }
    for (const item of run) items.push(item);
    return true;
  }

  /**
   * The rest of an array from `start` (an item, whitespace before one, or the closing
   * bracket): items split at its top-level commas and parsed in runs, a large item on its own.
   */
  #scanArrayRest(start: number, items: unknown[]): { value: unknown[]; end: number } {
    const bytes = this.#bytes;
    let itemStart = start;
    let runStart = -1;
    let runEnd = -1;
    const flush = (): void => {
      if (runStart >= 0 && !this.#pushRun(runStart, runEnd, items)) throw new NotPiecewise();
      runStart = -1;
    };
    const endItem = (itemEnd: number): void => {
      // An empty item (`[1,]`, `[,1]`) is an error, which a run of it alone (`[]`) would hide.
      if (this.#skipWhitespace(itemStart) >= itemEnd) throw new NotPiecewise();
      if (itemEnd - itemStart > this.#pieceBytes) {
        flush();
        const item = this.#valueAt(this.#skipWhitespace(itemStart));
        if (this.#skipWhitespace(item.end) !== itemEnd) throw new NotPiecewise();
        items.push(item.value);
        return;
      }
      if (runStart >= 0 && itemEnd - runStart > this.#pieceBytes) flush();
      if (runStart < 0) runStart = itemStart;
      runEnd = itemEnd;
    };
    let depth = 0;
    for (let index = start; index < bytes.length; index++) {
      const byte = bytes[index] as number;
      if (byte === QUOTE) {
        index = this.#closingQuote(index);
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (depth-- > 0) continue;
        if (byte !== CLOSE_BRACKET) throw new NotPiecewise();
        // `[]` and `[ ]` hold no item; otherwise the last one ends here (JSON.parse rejects an empty one).
        if (items.length > 0 || runStart >= 0 || this.#skipWhitespace(itemStart) !== index) endItem(index);
        flush();
        return { value: items, end: index + 1 };
      } else if (byte === COMMA && depth === 0) {
        endItem(index);
        itemStart = index + 1;
      }
    }
    throw new NotPiecewise();
  }

  /** The index of the quote closing the string that opens at `open` (an escaped quote does not close it). */
  #closingQuote(open: number): number {
    const bytes = this.#bytes;
    for (let index = open + 1; index < bytes.length; index++) {
      const byte = bytes[index];
      if (byte === QUOTE) return index;
      if (byte === BACKSLASH) index++;
    }
    throw new NotPiecewise();
  }

  #skipWhitespace(start: number): number {
    const bytes = this.#bytes;
    let index = start;
    while (index < bytes.length && isWhitespace(bytes[index] as number)) index++;
    return index;
  }
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDelimiter(byte: number): boolean {
  return byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isWhitespace(byte);
}
