/** Jinja2's default globals: `range`, `dict`, `namespace`, `cycler`, `joiner`, `lipsum`. */
import { PyError, typeError } from "./errors";
import { Namespace } from "./evaluate";
import { asInt, intOf, iterate, PyDict, PyFunction, PyObject, type PyValue, str } from "./values";

/** Python's `range` object. */
class PyRange extends PyObject {
  readonly typeName = "range";
  constructor(
    readonly start: bigint,
    readonly stop: bigint,
    readonly step: bigint,
  ) {
    super();
  }
  override len(): number {
    const n = (this.stop - this.start + this.step - (this.step > 0n ? 1n : -1n)) / this.step;
    return n > 0n ? Number(n) : 0;
  }
  override iter(): PyValue[] {
    const n = this.len();
    if (n > 10_000_000) throw new PyError("MemoryError", "range too large to iterate here");
    return Array.from({ length: n }, (_, i) => this.start + BigInt(i) * this.step);
  }
  override getItem(key: PyValue): PyValue {
    const i = asInt(key, "range indices");
    const n = this.len();
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) throw new PyError("IndexError", "range object index out of range");
    return this.start + BigInt(j) * this.step;
  }
  override repr(): string {
    return `range(${this.start}, ${this.stop}${this.step === 1n ? "" : `, ${this.step}`})`;
  }
  override equals(other: PyValue): boolean {
    return other instanceof PyRange && other.repr() === this.repr();
  }
}

/** Jinja2's `cycler(*items)`. */
class Cycler extends PyObject {
  readonly typeName = "Cycler";
  private pos = 0;
  constructor(private readonly items: PyValue[]) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    if (name === "current") return this.items[this.pos] ?? null;
    if (name === "reset") {
      return new PyFunction(name, () => {
        this.pos = 0;
        return null;
      });
    }
    if (name === "next") {
      return new PyFunction(name, () => {
        const v = this.items[this.pos] ?? null;
        this.pos = (this.pos + 1) % this.items.length;
        return v;
      });
    }
    return undefined;
  }
}

const bigint = (a: PyValue): bigint => {
  const i = intOf(a);
  if (i === undefined) throw typeError(`'${str(a)}' object cannot be interpreted as an integer`);
  return i;
};

/** The globals every template sees (a context may shadow them). */
export const GLOBALS: Record<string, PyValue> = {
  range: new PyFunction("range", (args) => {
    const n = args.map(bigint);
    if (n.length < 1 || n.length > 3)
      throw typeError(`range expected at most 3 arguments, got ${n.length}`);
    const [start, stop, step] =
      n.length === 1 ? [0n, n[0] ?? 0n, 1n] : [n[0] ?? 0n, n[1] ?? 0n, n[2] ?? 1n];
    if (step === 0n) throw new PyError("ValueError", "range() arg 3 must not be zero");
    return new PyRange(start, stop, step);
  }),
  dict: new PyFunction("dict", (args, kwargs) => {
    const d = new PyDict();
    const src = args[0];
    if (src instanceof PyDict) for (const [k, v] of src.items()) d.set(k, v);
    else if (src !== undefined)
      for (const pair of iterate(src)) d.set(...(iterate(pair) as [PyValue, PyValue]));
    for (const [k, v] of kwargs) d.set(k, v);
    return d;
  }),
  namespace: new PyFunction("namespace", (args, kwargs) => {
    const ns = new Namespace();
    const src = args[0];
    if (src instanceof PyDict) for (const [k, v] of src.items()) ns.attrs.set(String(k), v);
    else if (src !== undefined) {
      for (const pair of iterate(src)) {
        const [k, v] = iterate(pair);
        ns.attrs.set(str(k ?? null), v ?? null);
      }
    }
    for (const [k, v] of kwargs) ns.attrs.set(k, v);
    return ns;
  }),
  cycler: new PyFunction("cycler", (args) => new Cycler(args)),
  joiner: new PyFunction("joiner", (args, kwargs) => {
    const sep = str(args[0] ?? kwargs.get("sep") ?? ", ");
    let used = false;
    return new PyFunction("joiner", () => {
      if (used) return sep;
      used = true;
      return "";
    });
  }),
  // Random text in Jinja2; templates here must render the same every time.
  lipsum: new PyFunction("lipsum", () => {
    throw new PyError("NotImplementedError", "lipsum() is not offered: its output is random");
  }),
};
