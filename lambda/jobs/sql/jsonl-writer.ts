/**
 * lava-sql's jsonl format (bin/lava-sql JsonlWriter): per row
 * `json.dump(dict(zip(column_names, row)), fp, sort_keys=..., default=json_default)`
 * then `print(file=fp)`. So: `", "` and `": "` separators, ASCII only (`\u00e9`),
 * NaN and Infinity bare, a repeated column name keeps its first place and its
 * last value, and lava.lib.misc.json_default for what json cannot encode:
 *
 * - datetime: `isoformat()` (`2026-01-02T03:04:05+00:00`); date and time: `str()`.
 * - timedelta: `str(total_seconds())` (lava.lib.datetime.timedelta_to_str): `"93784.0"`.
 * - Decimal: `float(d)` if `'.' in str(d)` else `int(d)`: `1.50` is `1.5`, big values
 *   lose digits, `0.0000001` (str `1E-7`) is `0`; NaN and Infinity raise (JsonlWriteError).
 * - anything else (UUID, bytes, IP addresses, PGInterval, Range): `str()`, as a string.
 * - tuples (point, record) are arrays.
 */
import {
  datetimeIso,
  decimalStr,
  decimalToInt,
  floatRepr,
  type PyCell,
  pyStr,
  totalSecondsStr,
} from "./py-values";

/** Where lava-sql's json.dump raises (lava-sql exits 1 with the line half written). */
export class JsonlWriteError extends Error {
  override readonly name = "JsonlWriteError";
}

/** json's encode_basestring_ascii: `\"`, `\\`, `\n`-style escapes, `\u00XX` for the rest. */
function jsonStr(s: string): string {
  const short: Record<string, string> = { "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t" };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? "";
    const u = s.charCodeAt(i);
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (u >= 0x20 && u <= 0x7e) out += ch;
    else if (short[ch]) out += `\\${short[ch]}`;
    else out += `\\u${u.toString(16).padStart(4, "0")}`; // astral: the surrogate pair, as Python
  }
  return `${out}"`;
}

/** Python's str ordering: by code point (JS's default sort is by UTF-16 unit). */
function byCodePoint(a: string, b: string): number {
  const [x, y] = [[...a], [...b]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d) return d;
  }
  return x.length - y.length;
}

/** lava.lib.misc.json_default: what json.dumps encodes in place of a non-JSON value. */
function jsonDefault(c: PyCell): PyCell {
  if (c.t === "datetime") return { t: "str", v: datetimeIso(c, "T") };
  if (c.t === "timedelta") return { t: "str", v: totalSecondsStr(c.d, c.s, c.us) };
  if (c.t === "decimal") {
    const s = decimalStr(c.v);
    return s.includes(".") ? { t: "float", v: s } : { t: "int", v: decimalToInt(c.v) };
  }
  return { t: "str", v: pyStr(c) };
}

function encode(c: PyCell, sortKeys: boolean): string {
  switch (c.t) {
    case "none":
      return "null";
    case "bool":
      return c.v ? "true" : "false";
    case "int":
      return c.v;
    case "float": {
      // json's floatstr: NaN, Infinity, -Infinity, else float.__repr__.
      const r = floatRepr(Number(c.v));
      return r === "nan" ? "NaN" : r === "inf" ? "Infinity" : r === "-inf" ? "-Infinity" : r;
    }
    case "str":
      return jsonStr(c.v);
    case "list":
    case "tuple":
      return `[${c.v.map((v) => encode(v, sortKeys)).join(", ")}]`;
    case "dict": {
      const items = sortKeys ? [...c.v].sort(([a], [b]) => byCodePoint(a, b)) : c.v;
      return `{${items.map(([k, v]) => `${jsonStr(k)}: ${encode(v, sortKeys)}`).join(", ")}}`;
    }
    default:
      return encode(jsonDefault(c), sortKeys);
  }
}

export function jsonlWriter(opts: { sortKeys: boolean }): {
  row(names: readonly string[], cells: readonly PyCell[]): string;
} {
  return {
    row(names, cells) {
      const dict = new Map<string, PyCell>();
      for (const [i, cell] of cells.entries()) {
        const name = names[i];
        if (name !== undefined) dict.set(name, cell); // zip(): the shorter one ends it
      }
      const items = [...dict];
      if (opts.sortKeys) items.sort(([a], [b]) => byCodePoint(a, b));
      const fields = items.map(([name, cell]) => {
        try {
          return `${jsonStr(name)}: ${encode(cell, opts.sortKeys)}`;
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new JsonlWriteError(`column ${JSON.stringify(name)}: ${why}`);
        }
      });
      return `{${fields.join(", ")}}\n`;
    },
  };
}
