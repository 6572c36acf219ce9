/**
 * Python's own parsers pg8000 hands PostgreSQL's text to: `int()`, `float()`,
 * `json.loads` (json, jsonb) and `ipaddress` (inet, cidr[]), each giving a PyCell.
 */
import { NONE, type PyCell } from "./py-values";

/** Python's `int(text)` for the texts PostgreSQL writes. */
export function pyInt(text: string): PyCell {
  const m = /^\s*([+-]?)(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`invalid literal for int(): ${text}`);
  return { t: "int", v: BigInt(`${m[1]}${m[2]}`).toString() };
}

/** Python's `float(text)`, kept as text both Number() and float() read alike. */
export function pyFloat(text: string): PyCell {
  const s = text.trim();
  const named = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (named) {
    const nan = named[2]?.toLowerCase() === "nan";
    return { t: "float", v: nan ? "NaN" : `${named[1] === "-" ? "-" : ""}Infinity` };
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw new Error(`float(): ${text}`);
  return { t: "float", v: s };
}

/**
 * `json.loads(text)`: integers stay exact ints, numbers with a fraction or an
 * exponent become floats (json's `1e5` is `100000.0`), a repeated key keeps its
 * first place and its last value (dict assignment).
 */
export function jsonLoads(text: string): PyCell {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`json: ${what} at char ${i}`);
  };
  const ws = () => {
    while (" \t\n\r".includes(text[i] ?? "x")) i++;
  };
  const number = /(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/y;
  const literals: [string, PyCell][] = [
    ["null", NONE],
    ["true", { t: "bool", v: true }],
    ["false", { t: "bool", v: false }],
    ["NaN", { t: "float", v: "NaN" }],
    ["Infinity", { t: "float", v: "Infinity" }],
    ["-Infinity", { t: "float", v: "-Infinity" }],
  ];
  function string(): string {
    let out = "";
    for (i++; ; ) {
      const c = text[i++];
      if (c === undefined) return fail("unterminated string");
      if (c === '"') return out;
      if (c < " ") return fail("invalid control character");
      if (c !== "\\") out += c;
      else {
        const e = text[i++] ?? "";
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r" };
        const known = (simple as Record<string, string>)[e] ?? (e === "t" ? "\t" : undefined);
        if (known !== undefined) out += known;
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i, i + 4), 16));
          i += 4;
        } else fail("invalid escape");
      }
    }
  }
  function value(): PyCell {
    ws();
    const c = text[i];
    if (c === '"') return { t: "str", v: string() };
    if (c === "[" || c === "{") {
      const items: PyCell[] = [];
      const dict = new Map<string, PyCell>();
      i++;
      ws();
      if (text[i] === (c === "[" ? "]" : "}")) i++;
      else
        for (;;) {
          if (c === "[") items.push(value());
          else {
            ws();
            if (text[i] !== '"') fail("expected a key");
            const key = string();
            ws();
            if (text[i++] !== ":") fail("expected ':'");
            dict.set(key, value());
          }
          ws();
          const sep = text[i++];
          if (sep === (c === "[" ? "]" : "}")) break;
          if (sep !== ",") fail("expected ',' or a closing bracket");
        }
      return c === "[" ? { t: "list", v: items } : { t: "dict", v: [...dict] };
    }
    for (const [word, cell] of literals)
      if (text.startsWith(word, i)) {
        i += word.length;
        return cell;
      }
    number.lastIndex = i;
    const m = number.exec(text);
    if (!m) return fail("expecting value");
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined)
      return { t: "int", v: BigInt(m[1] ?? "").toString() };
    return { t: "float", v: m[0] };
  }
  const out = value();
  ws();
  if (i !== text.length) fail("extra data");
  return out;
}

/** An IPv4 or IPv6 address as an integer (ipaddress's parsers; no leading zeros in IPv4). */
function ipInt(s: string): { v6: boolean; n: bigint } {
  const v4 = (t: string) => {
    const parts = t.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256))
      throw new Error(`not an IPv4 address: ${t}`);
    return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
  };
  if (!s.includes(":")) return { v6: false, n: v4(s) };
  const halves = s.split("::");
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`);
  const hextets = (h: string | undefined) => {
    const parts = h ? h.split(":") : [];
    const last = parts.at(-1) ?? "";
    if (last.includes(".")) {
      const n = v4(last);
      parts.splice(-1, 1, (n >> 16n).toString(16), (n & 0xffffn).toString(16));
    }
    if (!parts.every((p) => /^[0-9a-f]{1,4}$/i.test(p))) throw new Error(`bad IPv6: ${s}`);
    return parts.map((p) => BigInt(`0x${p}`));
  };
  const head = hextets(halves[0]);
  const tail = halves.length === 2 ? hextets(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw new Error(`bad IPv6: ${s}`);
  const all = [...head, ...Array<bigint>(fill).fill(0n), ...tail];
  return { v6: true, n: all.reduce((n, h) => (n << 16n) | h, 0n) };
}

/** `str()` of an address: dotted quad, or Python 3.11's compressed IPv6 (no dotted tail). */
function ipStr(v6: boolean, n: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => (n >> s) & 0xffn).join(".");
  const hex = [...Array(8).keys()].map((k) => ((n >> BigInt(112 - 16 * k)) & 0xffffn).toString(16));
  // _compress_hextets: the first longest run of two or more zero hextets becomes "::".
  let [best, bestLen, start, len] = [-1, 0, -1, 0];
  hex.forEach((h, k) => {
    if (h !== "0") [start, len] = [-1, 0];
    else {
      if (start < 0) start = k;
      if (++len > bestLen) [best, bestLen] = [start, len];
    }
  });
  if (bestLen < 2) return hex.join(":");
  const left = hex.slice(0, best).join(":");
  const right = hex.slice(best + bestLen).join(":");
  return `${left}::${right}`;
}

/**
 * inet_in / cidr_in: `ip_network(text, strict=False)` when there is a `/`
 * (host bits cleared: inet `192.168.1.5/24` becomes `192.168.1.0/24`), else
 * `ip_address(text)`.
 */
export function ipCell(text: string): PyCell {
  const slash = text.indexOf("/");
  const { v6, n } = ipInt(slash < 0 ? text : text.slice(0, slash));
  if (slash < 0) return { t: "ipaddr", v: ipStr(v6, n) };
  const bits = v6 ? 128 : 32;
  const prefix = text.slice(slash + 1);
  if (!/^\d+$/.test(prefix) || Number(prefix) > bits) throw new Error(`bad prefix: ${text}`);
  const hostBits = BigInt(bits - Number(prefix));
  const net = (n >> hostBits) << hostBits;
  return { t: "ipnet", v: `${ipStr(v6, net)}/${Number(prefix)}` };
}
