/**
 * Checking templates before they run (`lava-aurora check`, synth): syntax,
 * unknown filters and tests, and names the field's context does not have —
 * variables, `utils.X`, `realm.X`, `job.X`, `vars.X` — with `state` called out
 * (lava's state items do not exist here). Names guarded by `is defined`,
 * `is undefined` or `| default(…)` anywhere in the template are not reported.
 */
import type { Expr, Stmt, Target } from "./jinja/ast";
import { PyError } from "./jinja/errors";
import { FILTER_INPUT } from "./jinja/parser";
import { compileTemplate } from "./render";
import { UTIL_NAMES } from "./utils";

/** What one templated field can see. */
export interface TemplateScope {
  /** The top-level variables, e.g. `realm`, `job`, `globals`, `vars`, `start`, `ustart`, `utils`. */
  readonly names: readonly string[];
  /** The keys of `realm` (lava's realm dict), when known. */
  readonly realmKeys?: readonly string[];
  /** The keys of `job`, when known. */
  readonly jobKeys?: readonly string[];
  /** The keys of `vars`, when known. */
  readonly varsKeys?: readonly string[];
}

const JINJA_GLOBALS = ["range", "dict", "namespace"];
const DICT_METHODS = ["items", "keys", "values", "get", "copy", "pop", "setdefault", "update"];

/** Variables the job templates of every type see (docs/templates.md §3). */
export const JOB_TEMPLATE_NAMES: readonly string[] = [
  "realm",
  "job",
  "globals",
  "vars",
  "start",
  "ustart",
  "utils",
];
/** What `job` adds to the spec's own fields. */
export const JOB_ADDED_KEYS: readonly string[] = [
  "run_id",
  "realm",
  "ts_start",
  "ts_ustart",
  "globals",
];

type Walk = {
  bound: Set<string>;
  problems: Set<string>;
  guarded: Set<string>;
  scope: TemplateScope;
};

/** `a`, `a.b` for a name or one attribute of it (`a['b']` too). */
function pathOf(e: Expr): string | undefined {
  if (e.kind === "name") return e.name;
  const attr =
    e.kind === "getattr"
      ? e.attr
      : e.kind === "getitem" && e.arg.kind === "const" && typeof e.arg.value === "string"
        ? e.arg.value
        : undefined;
  if (attr === undefined || (e.kind !== "getattr" && e.kind !== "getitem")) return undefined;
  return e.node.kind === "name" ? `${e.node.name}.${attr}` : undefined;
}

function collectGuards(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectGuards(n, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const n = node as Expr;
  const guarded =
    (n.kind === "test" && (n.name === "defined" || n.name === "undefined")) ||
    (n.kind === "filter" && (n.name === "default" || n.name === "d"));
  if (guarded) {
    for (let e: Expr = n.node; ; e = (e as { node: Expr }).node) {
      const p = pathOf(e);
      if (p !== undefined) out.add(p);
      if (!("node" in e) || e.kind === "unary") break;
    }
  }
  for (const v of Object.values(n)) if (typeof v === "object") collectGuards(v, out);
}

function bindTarget(t: Target, bound: Set<string>): void {
  if (t.kind === "name") bound.add(t.name);
  else if (t.kind === "tuple") for (const s of t.items) bindTarget(s, bound);
}

function keysProblem(
  w: Walk,
  root: string,
  attr: string,
  keys: readonly string[] | undefined,
  what: string,
): void {
  if (keys === undefined || keys.includes(attr) || DICT_METHODS.includes(attr)) return;
  if (w.guarded.has(`${root}.${attr}`)) return;
  w.problems.add(
    `template uses ${root}.${attr}, but ${what} has no '${attr}' (it has: ${[...keys].sort().join(", ") || "nothing"})`,
  );
}

function expr(e: Expr | undefined, w: Walk): void {
  if (!e) return;
  switch (e.kind) {
    case "name":
      if (w.bound.has(e.name) || e.name === FILTER_INPUT || w.guarded.has(e.name)) return;
      if (e.name === "state") {
        w.problems.add(
          "template uses state: lava's state items (its state manager) do not exist here, so it would fail",
        );
      } else if (!w.scope.names.includes(e.name) && !JINJA_GLOBALS.includes(e.name)) {
        w.problems.add(
          `template uses '${e.name}', which is not defined here (defined: ${[...w.scope.names].sort().join(", ")})`,
        );
      }
      return;
    case "getattr":
    case "getitem": {
      const attr =
        e.kind === "getattr"
          ? e.attr
          : e.arg.kind === "const" && typeof e.arg.value === "string"
            ? e.arg.value
            : undefined;
      if (attr !== undefined && e.node.kind === "name" && !w.bound.has(e.node.name)) {
        const root = e.node.name;
        if (root === "utils" && !UTIL_NAMES.includes(attr) && !w.guarded.has(`utils.${attr}`)) {
          w.problems.add(
            `template uses utils.${attr}, but lava's utils has no '${attr}' (it has: ${[...UTIL_NAMES].sort().join(", ")})`,
          );
        }
        if (root === "realm") keysProblem(w, root, attr, w.scope.realmKeys, "the realm");
        if (root === "job") {
          if (attr === "state" && !w.guarded.has("job.state")) {
            w.problems.add(
              "template uses job.state: lava's state items (its state manager) do not exist here, so it would fail",
            );
          } else keysProblem(w, root, attr, w.scope.jobKeys, "the job");
        }
        if (root === "vars") keysProblem(w, root, attr, w.scope.varsKeys, "vars");
      }
      expr(e.node, w);
      if (e.kind === "getitem") expr(e.arg, w);
      return;
    }
    default: {
      const visit = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (v !== null && typeof v === "object" && "kind" in v) expr(v as Expr, w);
      };
      for (const [k, v] of Object.entries(e)) if (k !== "kind") visit(v);
    }
  }
}

function stmts(body: readonly Stmt[], w: Walk): void {
  for (const s of body) stmt(s, w);
}

function child(w: Walk): Walk {
  return { ...w, bound: new Set(w.bound) };
}

function stmt(s: Stmt, w: Walk): void {
  switch (s.kind) {
    case "data":
      return;
    case "output":
      expr(s.expr, w);
      return;
    case "if":
      expr(s.test, w);
      stmts(s.body, w);
      stmts(s.else_, w);
      return;
    case "for": {
      expr(s.iter, w);
      const inner = child(w);
      bindTarget(s.target, inner.bound);
      inner.bound.add("loop");
      expr(s.test, inner);
      stmts(s.body, inner);
      stmts(s.else_, w);
      return;
    }
    case "set":
      expr(s.expr, w);
      bindTarget(s.target, w.bound);
      return;
    case "setblock":
      stmts(s.body, w);
      expr(s.filter, w);
      bindTarget(s.target, w.bound);
      return;
    case "with": {
      const inner = child(w);
      for (const [t, e] of s.targets) {
        expr(e, w);
        bindTarget(t, inner.bound);
      }
      stmts(s.body, inner);
      return;
    }
    case "macro": {
      w.bound.add(s.name);
      for (const d of s.defaults) expr(d, w);
      const inner = child(w);
      for (const a of [...s.args, "varargs", "kwargs", "caller"]) inner.bound.add(a);
      stmts(s.body, inner);
      return;
    }
    case "filterblock":
      expr(s.filter, w);
      stmts(s.body, w);
      return;
    case "scope":
      stmts(s.body, child(w));
      return;
  }
}

/**
 * The problems of one template in one field's scope: a syntax error or unknown
 * filter/test (as `template error: …`), else every name the scope lacks.
 */
export function templateProblems(source: string, scope: TemplateScope): string[] {
  let program: Stmt[];
  try {
    program = compileTemplate(source);
  } catch (err) {
    if (err instanceof PyError) return [`template error: ${err.pyType}: ${err.message}`];
    throw err;
  }
  const guarded = new Set<string>();
  collectGuards(program, guarded);
  const w: Walk = { bound: new Set(), problems: new Set(), guarded, scope };
  stmts(program, w);
  return [...w.problems];
}
