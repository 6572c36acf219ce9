/** Attributes of Python's built-in types: list, tuple, dict (and its views), int, float, str. */
import { PyError, valueError } from "./errors";
import { strMethod } from "./str-methods";
import {
  bind,
  compare,
  equals,
  iterate,
  type Kwargs,
  PyDict,
  PyFunction,
  PyObject,
  PyTuple,
  type PyValue,
  repr,
  truthy,
  typeName,
  Undefined,
} from "./values";

/** `dict_items`, `dict_keys`, `dict_values`. */
export class PyView extends PyObject {
  constructor(
    readonly typeName: string,
    private readonly items: () => PyValue[],
  ) {
    super();
  }
  override iter(): PyValue[] {
    return this.items();
  }
  override len(): number {
    return this.items().length;
  }
  override repr(): string {
    return `${this.typeName}([${this.items().map(repr).join(", ")}])`;
  }
  override hashKey(): undefined {
    return undefined;
  }
}

/** `str.format`'s `{0.attr}`: Python getattr, AttributeError if missing. */
export function getField(v: PyValue, attr: string): PyValue {
  const a = pyGetAttr(v, attr);
  if (a === undefined) {
    throw new PyError("AttributeError", `'${typeName(v)}' object has no attribute '${attr}'`);
  }
  return a;
}

const fn = (name: string, f: (a: PyValue[], kw: Kwargs) => PyValue) => new PyFunction(name, f);

function sortKey(items: PyValue[], kw: Kwargs, call: (f: PyValue, x: PyValue) => PyValue): void {
  const b = bind("sort", [], [], kw, { key: null, reverse: false });
  const key = b.key ?? null;
  const keyed = items.map((x) => [key === null ? x : call(key, x), x] as const);
  keyed.sort((p, q) => compare(p[0], q[0]));
  if (truthy(b.reverse ?? false)) keyed.reverse();
  items.splice(0, items.length, ...keyed.map((p) => p[1]));
}

function callValue(f: PyValue, x: PyValue): PyValue {
  if (f instanceof PyObject && f.call) return f.call([x], new Map());
  throw new PyError("TypeError", `'${typeName(f)}' object is not callable`);
}

function listAttr(list: PyValue[], name: string): PyValue | undefined {
  switch (name) {
    case "append":
      return fn(name, (a, kw) => {
        list.push(bind(name, ["object"], a, kw).object ?? null);
        return null;
      });
    case "extend":
      return fn(name, (a, kw) => {
        list.push(...iterate(bind(name, ["iterable"], a, kw).iterable ?? null));
        return null;
      });
    case "insert":
      return fn(name, (a, kw) => {
        const b = bind(name, ["index", "object"], a, kw);
        const i = Number(b.index);
        list.splice(i < 0 ? Math.max(0, list.length + i) : i, 0, b.object ?? null);
        return null;
      });
    case "pop":
      return fn(name, (a, kw) => {
        const i = Number(bind(name, ["index"], a, kw, { index: -1n }).index);
        const n = i < 0 ? list.length + i : i;
        if (n < 0 || n >= list.length) throw new PyError("IndexError", "pop index out of range");
        return list.splice(n, 1)[0] ?? null;
      });
    case "remove":
      return fn(name, (a, kw) => {
        const x = bind(name, ["value"], a, kw).value ?? null;
        const i = list.findIndex((y) => equals(y, x));
        if (i < 0) throw valueError("list.remove(x): x not in list");
        list.splice(i, 1);
        return null;
      });
    case "reverse":
      return fn(name, () => {
        list.reverse();
        return null;
      });
    case "sort":
      return fn(name, (_a, kw) => {
        sortKey(list, kw, callValue);
        return null;
      });
    case "copy":
      return fn(name, () => [...list]);
    case "clear":
      return fn(name, () => {
        list.length = 0;
        return null;
      });
    default:
      return seqAttr(list, name, "list");
  }
}

function seqAttr(items: readonly PyValue[], name: string, type: string): PyValue | undefined {
  if (name === "count") {
    return fn(name, (a, kw) => {
      const x = bind(name, ["value"], a, kw).value ?? null;
      return BigInt(items.filter((y) => equals(y, x)).length);
    });
  }
  if (name === "index") {
    return fn(name, (a, kw) => {
      const x = bind(name, ["value"], a, kw).value ?? null;
      const i = items.findIndex((y) => equals(y, x));
      if (i < 0)
        throw valueError(
          type === "list" ? `${repr(x)} is not in list` : "tuple.index(x): x not in tuple",
        );
      return BigInt(i);
    });
  }
  return undefined;
}

function dictAttr(d: PyDict, name: string): PyValue | undefined {
  switch (name) {
    case "items":
      return fn(
        name,
        () => new PyView("dict_items", () => d.items().map(([k, v]) => new PyTuple([k, v]))),
      );
    case "keys":
      return fn(name, () => new PyView("dict_keys", () => d.keys()));
    case "values":
      return fn(name, () => new PyView("dict_values", () => d.values()));
    case "get":
      return fn(name, (a, kw) => {
        const b = bind(name, ["key", "default"], a, [...kw].length ? kw : new Map(), {
          default: null,
        });
        return d.get(b.key ?? null) ?? b.default ?? null;
      });
    case "copy":
      return fn(name, () => new PyDict(d.items()));
    case "pop":
      return fn(name, (a) => {
        const k = a[0] ?? null;
        const v = d.get(k);
        if (v === undefined) {
          if (a.length > 1) return a[1] ?? null;
          throw new PyError("KeyError", repr(k));
        }
        d.delete(k);
        return v;
      });
    case "setdefault":
      return fn(name, (a) => {
        const k = a[0] ?? null;
        if (!d.has(k)) d.set(k, a[1] ?? null);
        return d.get(k) ?? null;
      });
    case "update":
      return fn(name, (a, kw) => {
        const src = a[0];
        if (src instanceof PyDict) for (const [k, v] of src.items()) d.set(k, v);
        else if (src !== undefined) {
          for (const pair of iterate(src)) {
            const [k, v] = iterate(pair);
            d.set(k ?? null, v ?? null);
          }
        }
        for (const [k, v] of kw) d.set(k, v);
        return null;
      });
    default:
      return undefined;
  }
}

function numberAttr(v: bigint | number, name: string): PyValue | undefined {
  if (name === "real") return v;
  if (name === "imag") return typeof v === "bigint" ? 0n : 0;
  if (typeof v === "number" && name === "is_integer") return fn(name, () => Number.isInteger(v));
  if (typeof v === "bigint" && name === "bit_length") {
    return fn(name, () => BigInt((v < 0n ? -v : v).toString(2).replace(/^0$/, "").length));
  }
  return undefined;
}

/** `getattr(obj, name)` for a built-in type; undefined when it has none. */
export function builtinAttr(obj: PyValue, name: string): PyValue | undefined {
  if (typeof obj === "string") return strMethod(obj, name, getField);
  if (Array.isArray(obj)) return listAttr(obj, name);
  if (obj instanceof PyTuple) return seqAttr(obj.items, name, "tuple");
  if (obj instanceof PyDict) return dictAttr(obj, name);
  if (typeof obj === "bigint" || typeof obj === "number") return numberAttr(obj, name);
  if (typeof obj === "boolean") return numberAttr(obj ? 1n : 0n, name);
  return undefined;
}

/** Python `getattr(obj, name)`; undefined when it has no such attribute. */
export function pyGetAttr(obj: PyValue, name: string): PyValue | undefined {
  if (obj instanceof Undefined) return obj.fail();
  if (obj instanceof PyObject) return obj.getAttr(name);
  return builtinAttr(obj, name);
}
