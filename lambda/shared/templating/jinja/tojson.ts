/** Jinja2's `tojson`: `json.dumps(sort_keys=True)`, then `<>&'` escaped for HTML. */
import { typeError } from "./errors";
import {
  floatRepr,
  intOf,
  PyDict,
  PyObject,
  PyTuple,
  type PyValue,
  str,
  typeName,
  Undefined,
} from "./values";

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || c > 0x7e) {
      const units =
        c > 0xffff ? [0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff)] : [c];
      out += units.map((u) => `\\u${u.toString(16).padStart(4, "0")}`).join("");
    } else out += ch;
  }
  return `${out}"`;
}

function dumps(v: PyValue, indent: string | undefined, level: number): string {
  if (v instanceof Undefined) return v.fail();
  if (typeof v === "string") return quote(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null) return "null";
  const i = intOf(v);
  if (i !== undefined) return i.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return floatRepr(v);
  }
  const nl = indent === undefined ? "" : `\n${indent.repeat(level + 1)}`;
  const end = indent === undefined ? "" : `\n${indent.repeat(level)}`;
  const sep = indent === undefined ? ", " : ",";
  if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    if (items.length === 0) return "[]";
    return `[${nl}${items.map((x) => dumps(x, indent, level + 1)).join(sep + nl)}${end}]`;
  }
  if (v instanceof PyDict) {
    if (v.size === 0) return "{}";
    const pairs = v.items().map(([k, x]): [string, PyValue] => {
      if (typeof k === "string") return [k, x];
      if (k === null) return ["null", x];
      if (typeof k === "boolean") return [k ? "true" : "false", x];
      if (typeof k === "bigint" || typeof k === "number") return [str(k), x];
      throw typeError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
    });
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return `{${nl}${pairs.map(([k, x]) => `${quote(k)}: ${dumps(x, indent, level + 1)}`).join(sep + nl)}${end}}`;
  }
  const name = v instanceof PyObject ? v.typeName.split(".").at(-1) : typeName(v);
  throw typeError(`Object of type ${name} is not JSON serializable`);
}

/** Jinja2's `tojson` filter. */
export function toJson(v: PyValue, indent: PyValue): string {
  const ind =
    indent === null
      ? undefined
      : typeof indent === "string"
        ? indent
        : " ".repeat(Number(intOf(indent) ?? 0n));
  return dumps(v, ind, 0)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/'/g, "\\u0027");
}
