/**
 * HPACK (RFC 7541), as much as one gRPC call of the fast path needs (h2-call.ts): a decoder of
 * the daemon's header blocks (static and dynamic table, Huffman-coded strings) and an encoder of
 * the request's headers as literals (no table, no Huffman: a few dozen bytes either way).
 * Why not node:http2: loading it costs more than all the rest of `cedana ps` (fast-path/ps.ts).
 */

/** RFC 7541 Appendix A: index 1 is the first entry. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * The length in bits of the Huffman code of each symbol (bytes 0-255, then EOS), RFC 7541
 * Appendix B, one character each (the length + 48). That code is canonical (codes of one length
 * are consecutive, in symbol order, each length's first code following the last of the shorter),
 * so the lengths alone define it.
 */
const CODE_LENGTHS =
  '=GLLLLLLLHNLLNLLLLLLLLNLLLLLLLLL6::<=68;::8;8666555666666678?6<:=67777777777777777777777878=C=>6?56565666577666567655677777?;>=LDFDDFFFGFGGGGGHGHHFGHGGGGEFGFGGHFEDFFGGEGFFHEFGGEEFEGFGGDFFFGFFGJJDCFGFIJJJKKJHICEJKKJKHEEJJLKKKDHDEFEEGFFIIHHJGJKJJKKKKKLKKKKKJN';
const EOS = 256;

/** The canonical decoding tables: per length, its first code, where its symbols start in SYMBOLS, how many. */
interface Canonical {
  first: number[];
  start: number[];
  count: number[];
  symbols: number[];
}

let canonical: Canonical | undefined;

function canonicalCode(): Canonical {
  if (canonical) return canonical;
  const lengths = [...CODE_LENGTHS].map((c) => c.charCodeAt(0) - 48);
  const symbols = lengths.map((_, s) => s).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
  const first: number[] = [];
  const start: number[] = [];
  const count: number[] = [];
  let code = 0;
  let length = 0;
  for (const [i, s] of symbols.entries()) {
    const l = lengths[s] as number;
    if (l !== length) {
      code *= 2 ** (l - length);
      length = l;
      first[l] = code;
      start[l] = i;
      count[l] = 0;
    }
    count[l] = (count[l] as number) + 1;
    code++;
  }
  canonical = { first, start, count, symbols };
  return canonical;
}

export class HpackError extends Error {}

/** Huffman-decodes `bytes` (latin1 text; header values are ASCII). */
export function huffmanDecode(bytes: Uint8Array): string {
  const { first, start, count, symbols } = canonicalCode();
  let out = '';
  let code = 0;
  let length = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      const n = count[length];
      if (n !== undefined && code - (first[length] as number) < n && code >= (first[length] as number)) {
        const symbol = symbols[(start[length] as number) + code - (first[length] as number)] as number;
        if (symbol === EOS) throw new HpackError('EOS in a Huffman-coded string');
        out += String.fromCharCode(symbol);
        code = 0;
        length = 0;
      } else if (length > 30) throw new HpackError('a Huffman code longer than any there is');
    }
  }
  // What is left is padding: fewer than 8 bits, all ones (the start of EOS).
  if (length > 7 || code !== 2 ** length - 1) throw new HpackError('bad padding after a Huffman-coded string');
  return out;
}

export type HeaderList = [string, string][];

/** One connection's decoding context: the dynamic table lives as long as the connection. */
export class HpackDecoder {
  private readonly dynamic: [string, string][] = [];
  private size = 0;
  private maxSize = 4096;

  /** The headers of one complete header block, in order. */
  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    let pos = 0;
    const int = (prefixBits: number): number => {
      const mask = 2 ** prefixBits - 1;
      let value = (block[pos++] as number) & mask;
      if (value < mask) return value;
      for (let shift = 0; ; shift += 7) {
        if (pos >= block.length || shift > 28) throw new HpackError('a truncated or oversized integer');
        const b = block[pos++] as number;
        value += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return value;
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError('a truncated string');
      const huffman = ((block[pos] as number) & 0x80) !== 0;
      const length = int(7);
      if (pos + length > block.length) throw new HpackError('a truncated string');
      const bytes = block.subarray(pos, pos + length);
      pos += length;
      return huffman ? huffmanDecode(bytes) : Buffer.from(bytes).toString('latin1');
    };
    while (pos < block.length) {
      const b = block[pos] as number;
      if (b & 0x80) {
        headers.push(this.entry(int(7)));
      } else if (b & 0x40) {
        const index = int(6);
        const name = index === 0 ? str() : this.entry(index)[0];
        const header: [string, string] = [name, str()];
        headers.push(header);
        this.add(header);
      } else if (b & 0x20) {
        const max = int(5);
        if (max > 4096) throw new HpackError(`a table size of ${max}, above the 4096 this client allows`);
        this.maxSize = max;
        this.evict();
      } else {
        // Literal without indexing (0000) or never indexed (0001): 4-bit prefix either way.
        const index = int(4);
        const name = index === 0 ? str() : this.entry(index)[0];
        headers.push([name, str()]);
      }
    }
    return headers;
  }

  private entry(index: number): [string, string] {
    const e = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.dynamic[index - STATIC_TABLE.length - 1];
    if (index === 0 || e === undefined) throw new HpackError(`no table entry ${index}`);
    return [e[0], e[1]];
  }

  private add(header: [string, string]): void {
    this.dynamic.unshift(header);
    this.size += header[0].length + header[1].length + 32;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const gone = this.dynamic.pop() as [string, string];
      this.size -= gone[0].length + gone[1].length + 32;
    }
  }
}

/** A header block of literals without indexing, new names, no Huffman: what any decoder reads. */
export function encodeHeaders(headers: HeaderList): Buffer {
  const parts: Buffer[] = [];
  const int = (value: number, prefixBits: number, flags: number): void => {
    const mask = 2 ** prefixBits - 1;
    if (value < mask) return void parts.push(Buffer.from([flags | value]));
    const bytes = [flags | mask];
    let rest = value - mask;
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    bytes.push(rest);
    parts.push(Buffer.from(bytes));
  };
  const str = (s: string): void => {
    const bytes = Buffer.from(s, 'latin1');
    int(bytes.length, 7, 0);
    parts.push(bytes);
  };
  for (const [name, value] of headers) {
    parts.push(Buffer.from([0]));
    str(name);
    str(value);
  }
  return Buffer.concat(parts);
}
