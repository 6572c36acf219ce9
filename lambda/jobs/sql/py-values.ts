/**
 * The Python values lava's result writers see (pg8000 1.31's conversions of
 * PostgreSQL's text output, `py-cells.ts`), and what CPython 3.11 prints for them:
 * `pyStr` is `str(value)` (csv.writer and Jinja's `{{ }}` use it), `pyRepr` is
 * `repr(value)` (what `str()` of a list, tuple or dict shows for its items).
 *
 * A `PyCell` is plain JSON so the differential tests can hand the very same
 * value to real Python (test/support/csv-oracle.py builds the object from it).
 */

/** One value as Python holds it. Numbers are kept as the text Python parses. */
export type PyCell =
  | { readonly t: "none" }
  | { readonly t: "bool"; readonly v: boolean }
  /** `int(v)`: decimal digits, optional `-`, any size. */
  | { readonly t: "int"; readonly v: string }
  /** `float(v)`: decimal text, `NaN`, `Infinity` or `-Infinity` (both sides parse it alike). */
  | { readonly t: "float"; readonly v: string }
  /** `Decimal(v)`: PostgreSQL numeric text, `NaN`, `Infinity`, `-Infinity`. */
  | { readonly t: "decimal"; readonly v: string }
  | { readonly t: "str"; readonly v: string }
  /** bytes, as lowercase hex. */
  | { readonly t: "bytes"; readonly v: string }
  | { readonly t: "date"; readonly y: number; readonly mo: number; readonly d: number }
  | PyTime
  | PyDateTime
  /** `timedelta`, normalised as Python holds it: 0 <= s < 86400, 0 <= us < 10**6. */
  | { readonly t: "timedelta"; readonly d: number; readonly s: number; readonly us: number }
  /** pg8000's PGInterval: its non-None fields in order, seconds a float, the others ints. */
  | { readonly t: "pginterval"; readonly v: readonly (readonly [string, PyCell])[] }
  /** v is str(UUID): lowercase, hyphenated. */
  | { readonly t: "uuid"; readonly v: string }
  /** `ipaddress.ip_address(v)`; v is its str(), compressed as Python 3.11 does. */
  | { readonly t: "ipaddr"; readonly v: string }
  /** `ipaddress.ip_network(v, strict=False)`; v is its str(), host bits cleared. */
  | { readonly t: "ipnet"; readonly v: string }
  | { readonly t: "list"; readonly v: readonly PyCell[] }
  | { readonly t: "tuple"; readonly v: readonly PyCell[] }
  /** A dict in insertion order (keys unique). */
  | { readonly t: "dict"; readonly v: readonly (readonly [string, PyCell])[] }
  /** pg8000's Range: `[lower, upper, bounds]`, or null for an empty range. */
  | { readonly t: "range"; readonly v: readonly [PyCell, PyCell, string] | null };

export interface PyTime {
  readonly t: "time";
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  readonly us: number;
}

/** A datetime; `off` is the UTC offset in seconds (null: naive). */
export interface PyDateTime {
  readonly t: "datetime";
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  readonly us: number;
  readonly off: number | null;
  /** The tzinfo: `datetime.timezone` (strptime's) or dateutil's `tzoffset` (its parser's). */
  readonly tz?: "tzoffset";
}

export const NONE: PyCell = { t: "none" };

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `float.__repr__`: the shortest round-trip digits, fixed for 1e-4 <= |x| < 1e16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // toExponential() with no argument gives the shortest digits that round-trip, as repr.
  const [mant = "", e = "0"] = Math.abs(x).toExponential().split("e");
  const digits = mant.replace(".", "");
  const exp = Number(e);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${pad(Math.abs(exp))}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, "0")}.${digits.slice(exp + 1) || "0"}`;
}

interface Dec {
  readonly neg: boolean;
  readonly special?: "NaN" | "Infinity";
  /** Coefficient digits without leading zeros ("0" for zero), as Decimal's `_int`. */
  readonly int: string;
  readonly exp: number;
}

function parseDecimal(v: string): Dec {
  const m = /^([+-]?)(?:(nan|inf|infinity)|(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?)$/i.exec(v);
  if (!m || (!m[2] && !m[3] && !m[4])) throw new Error(`not a Decimal: ${v}`);
  const neg = m[1] === "-";
  if (m[2])
    return { neg, special: m[2].toLowerCase() === "nan" ? "NaN" : "Infinity", int: "", exp: 0 };
  const frac = m[4] ?? "";
  const int = `${m[3] ?? ""}${frac}`.replace(/^0+/, "") || "0";
  return { neg, int, exp: Number(m[5] ?? 0) - frac.length };
}

/** `Decimal.__str__` (to-scientific-string): `1E-7` below 1e-6, PostgreSQL's digits kept. */
export function decimalStr(v: string): string {
  const d = parseDecimal(v);
  const sign = d.neg ? "-" : "";
  if (d.special) return sign + d.special;
  const left = d.exp + d.int.length;
  const dot = d.exp <= 0 && left > -6 ? left : 1;
  let intPart: string;
  let frac = "";
  if (dot <= 0) [intPart, frac] = ["0", `.${"0".repeat(-dot)}${d.int}`];
  else if (dot >= d.int.length) intPart = d.int + "0".repeat(dot - d.int.length);
  else [intPart, frac] = [d.int.slice(0, dot), `.${d.int.slice(dot)}`];
  const e = left === dot ? "" : `E${left - dot >= 0 ? "+" : ""}${left - dot}`;
  return sign + intPart + frac + e;
}

/** `int(Decimal(v))`: truncated toward zero; NaN and infinities raise as Python does. */
export function decimalToInt(v: string): string {
  const d = parseDecimal(v);
  if (d.special === "NaN") throw new Error("ValueError: cannot convert NaN to integer");
  if (d.special) throw new Error("OverflowError: cannot convert Infinity to integer");
  const digits = d.exp >= 0 ? d.int + "0".repeat(d.exp) : d.int.slice(0, d.exp);
  const n = digits.replace(/^0+/, "") || "0";
  return d.neg && n !== "0" ? `-${n}` : n;
}

/** `repr(str)`: CPython's quote choice and escapes (isprintable is Unicode's, per Node's ICU). */
export function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === q || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (c < 0x100) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
  return out + q;
}
/** Py_UNICODE_ISPRINTABLE is false for these categories (the space excepted). */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** `repr(bytes)` from hex. */
export function bytesRepr(hex: string): string {
  const bytes = (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
  const q = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${q}`;
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === q || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + q;
}

/** `timedelta.__str__`: `-1 day, 22:03:04.500000`. */
function timedeltaStr(d: number, s: number, us: number): string {
  const hms = `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  const days = d ? `${d} day${Math.abs(d) !== 1 ? "s" : ""}, ` : "";
  return days + hms + (us ? `.${pad(us, 6)}` : "");
}

/** `repr(timedelta)`: only the non-zero fields, `datetime.timedelta(0)` for zero. */
function timedeltaRepr(d: number, s: number, us: number): string {
  const f = [d && `days=${d}`, s && `seconds=${s}`, us && `microseconds=${us}`].filter(Boolean);
  return `datetime.timedelta(${f.length ? f.join(", ") : "0"})`;
}

/** A timedelta normalised from a count of microseconds. */
export function timedeltaOf(totalUs: bigint): PyCell {
  const day = 86_400_000_000n;
  let d = totalUs / day;
  let rest = totalUs % day;
  if (rest < 0n) [d, rest] = [d - 1n, rest + day];
  return {
    t: "timedelta",
    d: Number(d),
    s: Number(rest / 1_000_000n),
    us: Number(rest % 1_000_000n),
  };
}

/** `timedelta.total_seconds()` then `str()`: lava's jsonl writes intervals so (timedelta_to_str). */
export function totalSecondsStr(d: number, s: number, us: number): string {
  const total = (BigInt(d) * 86_400n + BigInt(s)) * 1_000_000n + BigInt(us);
  const neg = total < 0n;
  const abs = neg ? -total : total;
  // int / int in Python is correctly rounded; so is Number() of the exact decimal text.
  const exact = `${neg ? "-" : ""}${abs / 1_000_000n}.${pad(Number(abs % 1_000_000n), 6)}`;
  return floatRepr(Number(exact));
}

function timeStr(c: { h: number; mi: number; s: number; us: number }): string {
  return `${pad(c.h)}:${pad(c.mi)}:${pad(c.s)}${c.us ? `.${pad(c.us, 6)}` : ""}`;
}

/** `datetime._format_offset`: `+HH:MM`, `:SS` only when non-zero. */
function offsetStr(off: number): string {
  const a = Math.abs(off);
  const ss = a % 60;
  return `${off < 0 ? "-" : "+"}${pad(Math.floor(a / 3600))}:${pad(Math.floor(a / 60) % 60)}${ss ? `:${pad(ss)}` : ""}`;
}

/** `datetime.isoformat(sep)`; `str()` uses sep " ", lava's json_default "T". */
export function datetimeIso(c: PyDateTime, sep: string): string {
  const date = `${pad(c.y, 4)}-${pad(c.mo)}-${pad(c.d)}`;
  return `${date}${sep}${timeStr(c)}${c.off === null ? "" : offsetStr(c.off)}`;
}

function tzRepr(c: PyDateTime): string {
  if (c.off === null) return "";
  if (c.tz === "tzoffset") return `, tzinfo=tzoffset(None, ${c.off})`;
  if (c.off === 0) return ", tzinfo=datetime.timezone.utc";
  const td = timedeltaOf(BigInt(c.off) * 1_000_000n);
  if (td.t !== "timedelta") throw new Error("unreachable");
  return `, tzinfo=datetime.timezone(${timedeltaRepr(td.d, td.s, td.us)})`;
}

/** `str(value)`. */
export function pyStr(c: PyCell): string {
  switch (c.t) {
    case "none":
      return "None";
    case "bool":
      return c.v ? "True" : "False";
    case "int":
      return c.v;
    case "float":
      return floatRepr(Number(c.v));
    case "decimal":
      return decimalStr(c.v);
    case "str":
      return c.v;
    case "bytes":
      return bytesRepr(c.v);
    case "date":
      return `${pad(c.y, 4)}-${pad(c.mo)}-${pad(c.d)}`;
    case "time":
      return timeStr(c);
    case "datetime":
      return datetimeIso(c, " ");
    case "timedelta":
      return timedeltaStr(c.d, c.s, c.us);
    case "pginterval":
      return c.v.map(([name, v]) => `${pyStr(v)} ${name}`).join(" ");
    case "uuid":
    case "ipaddr":
    case "ipnet":
      return c.v;
    case "list":
      return `[${c.v.map(pyRepr).join(", ")}]`;
    case "tuple":
      return `(${c.v.map(pyRepr).join(", ")}${c.v.length === 1 ? "," : ""})`;
    case "dict":
      return `{${c.v.map(([k, v]) => `${strRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
    case "range":
      // Range.__str__ formats its bounds with f"{v}", which is str() for these types.
      if (c.v === null) return "empty";
      return `${c.v[2][0]}${rangeBound(c.v[0])},${rangeBound(c.v[1])}${c.v[2][1]}`;
  }
}

const rangeBound = (c: PyCell) => (c.t === "none" ? "" : pyStr(c));

/** `repr(value)`. */
export function pyRepr(c: PyCell): string {
  switch (c.t) {
    case "decimal":
      return `Decimal('${decimalStr(c.v)}')`;
    case "str":
      return strRepr(c.v);
    case "date":
      return `datetime.date(${c.y}, ${c.mo}, ${c.d})`;
    case "time": {
      const rest = c.us ? `, ${c.s}, ${c.us}` : c.s ? `, ${c.s}` : "";
      return `datetime.time(${c.h}, ${c.mi}${rest})`;
    }
    case "datetime": {
      const f = [c.y, c.mo, c.d, c.h, c.mi, c.s, c.us];
      if (f[6] === 0) f.pop();
      if (f.length === 6 && f[5] === 0) f.pop();
      return `datetime.datetime(${f.join(", ")}${tzRepr(c)})`;
    }
    case "timedelta":
      return timedeltaRepr(c.d, c.s, c.us);
    case "pginterval":
      return `<PGInterval ${pyStr(c)}>`;
    case "uuid":
      return `UUID('${c.v}')`;
    case "ipaddr":
      return `IPv${c.v.includes(":") ? 6 : 4}Address('${c.v}')`;
    case "ipnet":
      return `IPv${c.v.includes(":") ? 6 : 4}Network('${c.v}')`;
    case "range":
      return `<Range ${pyStr(c)}>`;
    default:
      return pyStr(c);
  }
}

/**
 * csv's QUOTE_NONNUMERIC leaves a field unquoted when PyNumber_Check() holds: the
 * type has `__index__`, `__int__` or `__float__`. So bools, ints, floats and
 * Decimals, but also UUIDs and IP addresses (both define `__int__`); not networks.
 */
export function isNumeric(c: PyCell): boolean {
  return ["bool", "int", "float", "decimal", "uuid", "ipaddr"].includes(c.t);
}
