/**
 * Evaluating a parsed template over Python values, as Jinja2's generated code
 * does with `undefined=StrictUndefined` and no autoescaping.
 */
import type { CallArgs, Expr, Stmt, Target } from "./ast";
import { PyError, typeError, valueError } from "./errors";
import { callFilter } from "./filters";
import { binop, compareOp, jinjaGetAttr, jinjaGetItem, PySlice, unaryOp } from "./ops";
import { FILTER_INPUT } from "./parser";
import { callTest } from "./tests";
import {
  bind,
  iterate,
  type Kwargs,
  PyDict,
  PyFunction,
  PyObject,
  PyTuple,
  type PyValue,
  repr,
  str,
  truthy,
  typeName,
  Undefined,
  undefinedName,
} from "./values";

/** Variables: a chain of scopes, innermost first. */
export class Scope {
  private readonly vars = new Map<string, PyValue>();
  constructor(private readonly parent?: Scope) {}
  lookup(name: string): PyValue | undefined {
    return this.vars.has(name) ? this.vars.get(name) : this.parent?.lookup(name);
  }
  set(name: string, value: PyValue): void {
    this.vars.set(name, value);
  }
  child(): Scope {
    return new Scope(this);
  }
}

/** Jinja2's `namespace()`: attributes that `{% set ns.x = … %}` can change. */
export class Namespace extends PyObject {
  readonly typeName = "Namespace";
  readonly attrs = new Map<string, PyValue>();
  override getAttr(name: string): PyValue | undefined {
    return this.attrs.get(name);
  }
  override repr(): string {
    return `<Namespace ${repr(new PyDict(this.attrs))}>`;
  }
}

/** The `loop` variable of a for loop. */
class LoopContext extends PyObject {
  readonly typeName = "LoopContext";
  index0 = 0;
  private lastChanged: PyValue[] | undefined;
  constructor(
    private readonly items: PyValue[],
    private readonly depth0: number,
  ) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    const n = this.items.length;
    const i = this.index0;
    const nav = (j: number, what: string) =>
      j >= 0 && j < n ? (this.items[j] as PyValue) : new Undefined(`there is no ${what} item`);
    switch (name) {
      case "index0":
        return BigInt(i);
      case "index":
        return BigInt(i + 1);
      case "revindex":
        return BigInt(n - i);
      case "revindex0":
        return BigInt(n - i - 1);
      case "first":
        return i === 0;
      case "last":
        return i === n - 1;
      case "length":
        return BigInt(n);
      case "depth":
        return BigInt(this.depth0 + 1);
      case "depth0":
        return BigInt(this.depth0);
      case "previtem":
        return nav(i - 1, "previous");
      case "nextitem":
        return nav(i + 1, "next");
      case "cycle":
        return new PyFunction("cycle", (args) => {
          if (args.length === 0) throw typeError("no items for cycling given");
          return args[i % args.length] as PyValue;
        });
      case "changed":
        return new PyFunction("changed", (args) => {
          const same =
            this.lastChanged !== undefined &&
            this.lastChanged.length === args.length &&
            repr(args) === repr(this.lastChanged);
          this.lastChanged = args;
          return !same;
        });
      default:
        return undefined;
    }
  }
  override repr(): string {
    return `<LoopContext ${this.index0 + 1}/${this.items.length}>`;
  }
}

/** Whether a tree names a variable. */
function mentions(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => mentions(n, name));
  if (node === null || typeof node !== "object") return false;
  const n = node as { kind?: string; name?: string };
  if (n.kind === "name" && n.name === name) return true;
  return Object.values(n).some((v) => typeof v === "object" && mentions(v, name));
}

/** Call a callable value. */
export function callValue(fn: PyValue, args: PyValue[], kwargs: Kwargs): PyValue {
  if (fn instanceof Undefined) return fn.fail();
  if (fn instanceof PyObject && fn.call) return fn.call(args, kwargs);
  throw typeError(`'${typeName(fn)}' object is not callable`);
}

/** Evaluates one template's statements into output text. */
export class Evaluator {
  constructor(private readonly depth = 0) {}

  run(body: Stmt[], scope: Scope): string {
    const out: string[] = [];
    this.block(body, scope, out);
    return out.join("");
  }

  private block(body: Stmt[], scope: Scope, out: string[]): void {
    for (const s of body) this.stmt(s, scope, out);
  }

  private stmt(s: Stmt, scope: Scope, out: string[]): void {
    switch (s.kind) {
      case "data":
        out.push(s.text);
        return;
      case "output":
        out.push(str(this.expr(s.expr, scope)));
        return;
      case "if":
        this.block(truthy(this.expr(s.test, scope)) ? s.body : s.else_, scope, out);
        return;
      case "for":
        this.forLoop(s, scope, out);
        return;
      case "set":
        this.assign(s.target, this.expr(s.expr, scope), scope);
        return;
      case "setblock": {
        let value: PyValue = this.run(s.body, scope);
        if (s.filter) value = this.withInput(s.filter, value, scope);
        this.assign(s.target, value, scope);
        return;
      }
      case "with": {
        const inner = scope.child();
        for (const [t, e] of s.targets) this.assign(t, this.expr(e, scope), inner);
        this.block(s.body, inner, out);
        return;
      }
      case "macro":
        scope.set(s.name, this.macro(s, scope));
        return;
      case "filterblock":
        out.push(str(this.withInput(s.filter, this.run(s.body, scope), scope)));
        return;
      case "scope":
        this.block(s.body, scope.child(), out);
        return;
    }
  }

  private withInput(filter: Expr, input: PyValue, scope: Scope): PyValue {
    const inner = scope.child();
    inner.set(FILTER_INPUT, input);
    return this.expr(filter, inner);
  }

  private forLoop(s: Extract<Stmt, { kind: "for" }>, scope: Scope, out: string[]): void {
    const all = iterate(this.expr(s.iter, scope));
    const items = s.test
      ? all.filter((x) => {
          const probe = scope.child();
          this.assign(s.target, x, probe);
          return truthy(this.expr(s.test as Expr, probe));
        })
      : all;
    const loop = new LoopContext(items, this.depth);
    items.forEach((item, i) => {
      const inner = scope.child();
      loop.index0 = i;
      inner.set("loop", loop);
      this.assign(s.target, item, inner);
      this.block(s.body, inner, out);
    });
    if (items.length === 0) this.block(s.else_, scope, out);
  }

  private assign(t: Target, value: PyValue, scope: Scope): void {
    if (t.kind === "name") {
      scope.set(t.name, value);
    } else if (t.kind === "nsref") {
      const ns = scope.lookup(t.name);
      if (!(ns instanceof Namespace)) {
        throw new PyError(
          "TemplateRuntimeError",
          "cannot assign attribute on non-namespace object",
        );
      }
      ns.attrs.set(t.attr, value);
    } else {
      const items = iterate(value);
      if (items.length !== t.items.length) {
        throw valueError(
          items.length > t.items.length
            ? `too many values to unpack (expected ${t.items.length})`
            : `not enough values to unpack (expected ${t.items.length}, got ${items.length})`,
        );
      }
      t.items.forEach((sub, i) => {
        this.assign(sub, items[i] as PyValue, scope);
      });
    }
  }

  private macro(s: Extract<Stmt, { kind: "macro" }>, scope: Scope): PyFunction {
    const firstDefault = s.args.length - s.defaults.length;
    return new PyFunction(s.name, (args, kwargs) => {
      const defaults: Record<string, PyValue> = {};
      s.args.forEach((a, i) => {
        if (i >= firstDefault) defaults[a] = this.expr(s.defaults[i - firstDefault] as Expr, scope);
      });
      // As Jinja2: extra arguments are accepted only by a macro that uses varargs / kwargs.
      const takesVarargs = mentions(s.body, "varargs");
      const takesKwargs = mentions(s.body, "kwargs");
      const extraKw: Kwargs = new Map([...kwargs].filter(([k]) => !s.args.includes(k)));
      if (extraKw.size && !takesKwargs) {
        throw typeError(`macro '${s.name}' takes no keyword argument '${[...extraKw.keys()][0]}'`);
      }
      if (args.length > s.args.length && !takesVarargs) {
        throw typeError(`macro '${s.name}' takes not more than ${s.args.length} argument(s)`);
      }
      const known: Kwargs = new Map([...kwargs].filter(([k]) => s.args.includes(k)));
      const bound = bind(s.name, s.args, args.slice(0, s.args.length), known, defaults);
      const inner = scope.child();
      for (const [k, v] of Object.entries(bound)) inner.set(k, v);
      inner.set("varargs", new PyTuple(args.slice(s.args.length)));
      inner.set("kwargs", new PyDict(extraKw));
      return this.run(s.body, inner);
    });
  }

  private args(c: CallArgs, scope: Scope): [PyValue[], Kwargs] {
    const args = c.args.map((a) => this.expr(a, scope));
    const kwargs: Kwargs = new Map(c.kwargs.map(([k, v]) => [k, this.expr(v, scope)]));
    if (c.dynArgs) args.push(...iterate(this.expr(c.dynArgs, scope)));
    if (c.dynKwargs) {
      const d = this.expr(c.dynKwargs, scope);
      if (!(d instanceof PyDict)) throw typeError("argument after ** must be a mapping");
      for (const [k, v] of d.items()) kwargs.set(str(k), v);
    }
    return [args, kwargs];
  }

  expr(e: Expr, scope: Scope): PyValue {
    switch (e.kind) {
      case "const":
        return e.value;
      case "name":
        return scope.lookup(e.name) ?? undefinedName(e.name);
      case "tuple":
        return new PyTuple(e.items.map((x) => this.expr(x, scope)));
      case "list":
        return e.items.map((x) => this.expr(x, scope));
      case "dict":
        return new PyDict(e.items.map(([k, v]) => [this.expr(k, scope), this.expr(v, scope)]));
      case "getattr":
        return jinjaGetAttr(this.expr(e.node, scope), e.attr);
      case "getitem": {
        const obj = this.expr(e.node, scope);
        if (obj instanceof Undefined) return obj.fail();
        return jinjaGetItem(obj, this.expr(e.arg, scope));
      }
      case "slice": {
        const part = (x: Expr | undefined) => (x ? this.expr(x, scope) : null);
        return new PySlice(part(e.start), part(e.stop), part(e.step));
      }
      case "call": {
        const fn = this.expr(e.node, scope);
        const [args, kwargs] = this.args(e, scope);
        return callValue(fn, args, kwargs);
      }
      case "filter": {
        const value = this.expr(e.node, scope);
        const [args, kwargs] = this.args(e, scope);
        return callFilter(e.name, value, args, kwargs);
      }
      case "test": {
        const value = this.expr(e.node, scope);
        const [args, kwargs] = this.args(e, scope);
        return callTest(e.name, value, args, kwargs);
      }
      case "binop":
        return binop(e.op, this.expr(e.left, scope), this.expr(e.right, scope));
      case "unary": {
        const v = this.expr(e.node, scope);
        return e.op === "not" ? !truthy(v) : unaryOp(e.op, v);
      }
      case "compare": {
        let left = this.expr(e.expr, scope);
        for (const [op, node] of e.ops) {
          const right = this.expr(node, scope);
          if (!compareOp(op, left, right)) return false;
          left = right;
        }
        return true;
      }
      case "concat":
        return e.nodes.map((n) => str(this.expr(n, scope))).join("");
      case "and": {
        const l = this.expr(e.left, scope);
        return truthy(l) ? this.expr(e.right, scope) : l;
      }
      case "or": {
        const l = this.expr(e.left, scope);
        return truthy(l) ? l : this.expr(e.right, scope);
      }
      case "cond":
        if (truthy(this.expr(e.test, scope))) return this.expr(e.expr1, scope);
        return e.expr2
          ? this.expr(e.expr2, scope)
          : new Undefined(
              "the inline if-expression evaluated to false and no else section was defined.",
              false,
            );
    }
  }
}
