/**
 * Jinja2's parser (`jinja2/parser.py`), rule for rule, so that precedence and
 * the odd corners (`-2**2` is 4, filters bind to unary minus, tests without
 * parentheses) come out as in Jinja2.
 */
import type { CallArgs, Expr, Stmt, Target } from "./ast";
import { TemplateSyntaxError } from "./errors";
import { type Token, tokenize } from "./lexer";

/** The placeholder a filter block's filter applies to. */
export const FILTER_INPUT = "\u0000input";

const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">="]);
const STATEMENTS = new Set([
  "for",
  "if",
  "block",
  "extends",
  "print",
  "macro",
  "include",
  "from",
  "import",
  "set",
  "with",
  "autoescape",
  "filter",
  "call",
]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private get cur(): Token {
    return this.tokens[this.i] as Token;
  }
  private look(): Token {
    return this.tokens[Math.min(this.i + 1, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.cur;
    if (t.type !== "eof") this.i++;
    return t;
  }
  private isOp(value: string, t: Token = this.cur): boolean {
    return t.type === "operator" && t.value === value;
  }
  private isName(value: string, t: Token = this.cur): boolean {
    return t.type === "name" && t.value === value;
  }
  private fail(message: string): never {
    throw new TemplateSyntaxError(message, this.cur.line);
  }
  private describe(t: Token): string {
    if (t.type === "eof") return "end of template";
    if (t.type === "operator" || t.type === "name") return `'${t.value}'`;
    return t.type.replace("_", " ");
  }
  private expectOp(value: string): void {
    if (!this.isOp(value)) this.fail(`expected token '${value}', got ${this.describe(this.cur)}`);
    this.next();
  }
  private expectType(type: Token["type"]): Token {
    if (this.cur.type !== type) {
      this.fail(`expected token '${type.replace("_", " ")}', got ${this.describe(this.cur)}`);
    }
    return this.next();
  }
  private expectName(value?: string): string {
    if (this.cur.type !== "name" || (value !== undefined && this.cur.value !== value)) {
      this.fail(`expected token '${value ?? "name"}', got ${this.describe(this.cur)}`);
    }
    return this.next().value;
  }

  template(): Stmt[] {
    const body = this.subparse(undefined);
    return body;
  }

  private subparse(end: readonly string[] | undefined): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === "eof") {
        if (end) this.fail(`Unexpected end of template. Expected one of ${end.join(", ")}`);
        return body;
      }
      if (t.type === "data") {
        body.push({ kind: "data", text: t.value });
        this.next();
      } else if (t.type === "variable_begin") {
        this.next();
        body.push({ kind: "output", expr: this.tuple({}) });
        this.expectType("variable_end");
      } else if (t.type === "block_begin") {
        this.next();
        if (end && this.cur.type === "name" && end.includes(this.cur.value)) return body;
        body.push(...this.statement());
        this.expectType("block_end");
      } else {
        this.fail(`unexpected ${this.describe(t)}`);
      }
    }
  }

  private statements(end: readonly string[], dropNeedle = false): Stmt[] {
    if (this.isOp(":")) this.next();
    this.expectType("block_end");
    const body = this.subparse(end);
    if (dropNeedle) this.next();
    return body;
  }

  private statement(): Stmt[] {
    const t = this.cur;
    if (t.type !== "name") this.fail("tag name expected");
    if (!STATEMENTS.has(t.value)) this.fail(`Encountered unknown tag '${t.value}'.`);
    this.next();
    switch (t.value) {
      case "for":
        return [this.forStmt()];
      case "if":
        return [this.ifStmt()];
      case "set":
        return [this.setStmt()];
      case "with":
        return [this.withStmt()];
      case "macro":
        return [this.macroStmt()];
      case "filter": {
        const filter = this.filter(undefined, true);
        return [{ kind: "filterblock", filter, body: this.statements(["endfilter"], true) }];
      }
      case "print": {
        const out: Stmt[] = [];
        while (this.cur.type !== "block_end") {
          if (out.length) this.expectOp(",");
          out.push({ kind: "output", expr: this.expression() });
        }
        return out;
      }
      case "block": {
        this.expectName();
        if (this.isName("scoped")) this.next();
        if (this.isName("required")) this.next();
        const body = this.statements(["endblock"], true);
        if (this.cur.type === "name") this.next();
        return [{ kind: "scope", body }];
      }
      case "autoescape":
        this.expression();
        return [{ kind: "scope", body: this.statements(["endautoescape"], true) }];
      default:
        return this.fail(`tag '${t.value}' needs a template loader, which lava does not have`);
    }
  }

  private forStmt(): Stmt {
    const target = this.assignTarget({ extraEnd: ["in"] });
    this.expectName("in");
    const iter = this.tuple({ withCondexpr: false, extraEnd: ["recursive"] });
    let test: Expr | undefined;
    if (this.isName("if")) {
      this.next();
      test = this.expression();
    }
    const recursive = this.isName("recursive");
    if (recursive) this.next();
    const body = this.statements(["endfor", "else"]);
    const else_ = this.next().value === "else" ? this.statements(["endfor"], true) : [];
    return { kind: "for", target, iter, body, else_, test, recursive };
  }

  private ifStmt(): Stmt {
    const test = this.tuple({ withCondexpr: false });
    const body = this.statements(["elif", "else", "endif"]);
    const t = this.next();
    if (t.value === "elif") return { kind: "if", test, body, else_: [this.ifStmt()] };
    const else_ = t.value === "else" ? this.statements(["endif"], true) : [];
    return { kind: "if", test, body, else_ };
  }

  private setStmt(): Stmt {
    const target = this.assignTarget({ withNamespace: true });
    if (this.isOp("=")) {
      this.next();
      return { kind: "set", target, expr: this.tuple({}) };
    }
    const filter = this.isOp("|") ? this.filter(undefined) : undefined;
    return { kind: "setblock", target, filter, body: this.statements(["endset"], true) };
  }

  private withStmt(): Stmt {
    const targets: [Target, Expr][] = [];
    while (this.cur.type !== "block_end") {
      if (targets.length) this.expectOp(",");
      const target = this.assignTarget({});
      this.expectOp("=");
      targets.push([target, this.expression()]);
    }
    return { kind: "with", targets, body: this.statements(["endwith"], true) };
  }

  private macroStmt(): Stmt {
    const name = this.expectName();
    const args: string[] = [];
    const defaults: Expr[] = [];
    this.expectOp("(");
    while (!this.isOp(")")) {
      if (args.length) this.expectOp(",");
      args.push(this.expectName());
      if (this.isOp("=")) {
        this.next();
        defaults.push(this.expression());
      } else if (defaults.length) this.fail("non-default argument follows default argument");
    }
    this.next();
    return { kind: "macro", name, args, defaults, body: this.statements(["endmacro"], true) };
  }

  private assignTarget(o: { withNamespace?: boolean; extraEnd?: string[] }): Target {
    if (o.withNamespace && this.cur.type === "name" && this.isOp(".", this.look())) {
      const name = this.next().value;
      this.next();
      return { kind: "nsref", name, attr: this.expectName() };
    }
    const expr = this.tuple({ simplified: true, extraEnd: o.extraEnd });
    const toTarget = (e: Expr): Target => {
      if (e.kind === "name") return { kind: "name", name: e.name };
      if (e.kind === "tuple") return { kind: "tuple", items: e.items.map(toTarget) };
      return this.fail(`can't assign to '${e.kind}'`);
    };
    return toTarget(expr);
  }

  private tupleEnd(extraEnd?: string[]): boolean {
    const t = this.cur;
    if (t.type === "variable_end" || t.type === "block_end" || this.isOp(")")) return true;
    return t.type === "name" && (extraEnd ?? []).includes(t.value);
  }

  private tuple(o: {
    simplified?: boolean;
    withCondexpr?: boolean;
    extraEnd?: string[];
    explicitParens?: boolean;
  }): Expr {
    const parse = o.simplified
      ? () => this.primary()
      : () => this.expression(o.withCondexpr ?? true);
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length) this.expectOp(",");
      if (this.tupleEnd(o.extraEnd)) break;
      items.push(parse());
      if (this.isOp(",")) isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (items.length) return items[0] as Expr;
      if (!o.explicitParens) this.fail(`Expected an expression, got ${this.describe(this.cur)}`);
    }
    return { kind: "tuple", items };
  }

  expression(withCondexpr = true): Expr {
    return withCondexpr ? this.condexpr() : this.or();
  }

  private condexpr(): Expr {
    let expr1 = this.or();
    while (this.isName("if")) {
      this.next();
      const test = this.or();
      let expr2: Expr | undefined;
      if (this.isName("else")) {
        this.next();
        expr2 = this.condexpr();
      }
      expr1 = { kind: "cond", test, expr1, expr2 };
    }
    return expr1;
  }

  private or(): Expr {
    return this.logical("or", () => this.and());
  }

  private and(): Expr {
    return this.logical("and", () => this.not());
  }

  /** `operand (keyword operand)*`, grouped from the left. */
  private logical(keyword: "or" | "and", operand: () => Expr): Expr {
    let left = operand();
    while (this.isName(keyword)) {
      this.next();
      left = { kind: keyword, left, right: operand() };
    }
    return left;
  }

  private not(): Expr {
    if (this.isName("not")) {
      this.next();
      return { kind: "unary", op: "not", node: this.not() };
    }
    return this.compare();
  }

  private compare(): Expr {
    const expr = this.math1();
    const ops: [string, Expr][] = [];
    for (;;) {
      if (this.cur.type === "operator" && COMPARE.has(this.cur.value)) {
        const op = this.next().value;
        ops.push([op, this.math1()]);
      } else if (this.isName("in")) {
        this.next();
        ops.push(["in", this.math1()]);
      } else if (this.isName("not") && this.isName("in", this.look())) {
        this.next();
        this.next();
        ops.push(["notin", this.math1()]);
      } else break;
    }
    return ops.length ? { kind: "compare", expr, ops } : expr;
  }

  private math1(): Expr {
    let left = this.concat();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next().value;
      left = { kind: "binop", op, left, right: this.concat() };
    }
    return left;
  }

  private concat(): Expr {
    const nodes = [this.math2()];
    while (this.isOp("~")) {
      this.next();
      nodes.push(this.math2());
    }
    return nodes.length === 1 ? (nodes[0] as Expr) : { kind: "concat", nodes };
  }

  private math2(): Expr {
    let left = this.pow();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const op = this.next().value;
      left = { kind: "binop", op, left, right: this.pow() };
    }
    return left;
  }

  private pow(): Expr {
    let left = this.unary(true);
    while (this.isOp("**")) {
      this.next();
      left = { kind: "binop", op: "**", left, right: this.unary(true) };
    }
    return left;
  }

  private unary(withFilter: boolean): Expr {
    let node: Expr;
    if (this.isOp("-") || this.isOp("+")) {
      const op = this.next().value as "-" | "+";
      node = { kind: "unary", op, node: this.unary(false) };
    } else node = this.primary();
    node = this.postfix(node);
    return withFilter ? this.filterExpr(node) : node;
  }

  private primary(): Expr {
    const t = this.cur;
    if (t.type === "name") {
      this.next();
      if (["true", "false", "True", "False"].includes(t.value)) {
        return { kind: "const", value: t.value === "true" || t.value === "True" };
      }
      if (t.value === "none" || t.value === "None") return { kind: "const", value: null };
      return { kind: "name", name: t.value };
    }
    if (t.type === "string") {
      let value = "";
      while (this.cur.type === "string") value += this.next().value;
      return { kind: "const", value };
    }
    if (t.type === "integer") {
      this.next();
      return { kind: "const", value: BigInt(t.value) };
    }
    if (t.type === "float") {
      this.next();
      return { kind: "const", value: Number(t.value) };
    }
    if (this.isOp("(")) {
      this.next();
      const node = this.tuple({ explicitParens: true });
      this.expectOp(")");
      return node;
    }
    if (this.isOp("[")) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp("]")) {
        if (items.length) this.expectOp(",");
        if (this.isOp("]")) break;
        items.push(this.expression());
      }
      this.next();
      return { kind: "list", items };
    }
    if (this.isOp("{")) {
      this.next();
      const items: [Expr, Expr][] = [];
      while (!this.isOp("}")) {
        if (items.length) this.expectOp(",");
        if (this.isOp("}")) break;
        const key = this.expression();
        this.expectOp(":");
        items.push([key, this.expression()]);
      }
      this.next();
      return { kind: "dict", items };
    }
    return this.fail(`unexpected ${this.describe(t)}`);
  }

  private postfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp(".") || this.isOp("[")) node = this.subscript(node);
      else if (this.isOp("(")) node = { kind: "call", node, ...this.callArgs() };
      else return node;
    }
  }

  private filterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp("|")) node = this.filter(node);
      else if (this.isName("is")) node = this.test(node);
      else if (this.isOp("(")) node = { kind: "call", node, ...this.callArgs() };
      else return node;
    }
  }

  private subscript(node: Expr): Expr {
    const t = this.next();
    if (t.value === ".") {
      const attr = this.next();
      if (attr.type === "name") return { kind: "getattr", node, attr: attr.value };
      if (attr.type !== "integer") this.fail("expected name or number");
      return { kind: "getitem", node, arg: { kind: "const", value: BigInt(attr.value) } };
    }
    const args: Expr[] = [];
    while (!this.isOp("]")) {
      if (args.length) this.expectOp(",");
      args.push(this.subscribed());
    }
    this.next();
    return {
      kind: "getitem",
      node,
      arg: args.length === 1 ? (args[0] as Expr) : { kind: "tuple", items: args },
    };
  }

  private subscribed(): Expr {
    const parts: (Expr | undefined)[] = [];
    if (this.isOp(":")) {
      this.next();
      parts.push(undefined);
    } else {
      const node = this.expression();
      if (!this.isOp(":")) return node;
      this.next();
      parts.push(node);
    }
    const optional = () =>
      this.isOp("]") || this.isOp(",") || this.isOp(":") ? undefined : this.expression();
    parts.push(optional());
    if (this.isOp(":")) {
      this.next();
      parts.push(this.isOp("]") || this.isOp(",") ? undefined : this.expression());
    }
    return { kind: "slice", start: parts[0], stop: parts[1], step: parts[2] };
  }

  private callArgs(): CallArgs {
    this.expectOp("(");
    const out: CallArgs = { args: [], kwargs: [] };
    let requireComma = false;
    while (!this.isOp(")")) {
      if (requireComma) {
        this.expectOp(",");
        if (this.isOp(")")) break;
      }
      if (this.isOp("*")) {
        this.next();
        out.dynArgs = this.expression();
      } else if (this.isOp("**")) {
        this.next();
        out.dynKwargs = this.expression();
      } else if (this.cur.type === "name" && this.isOp("=", this.look())) {
        const key = this.next().value;
        this.next();
        out.kwargs.push([key, this.expression()]);
      } else {
        if (out.kwargs.length || out.dynArgs || out.dynKwargs)
          this.fail("invalid syntax for function call expression");
        out.args.push(this.expression());
      }
      requireComma = true;
    }
    this.next();
    return out;
  }

  private dottedName(): string {
    let name = this.expectName();
    while (this.isOp(".")) {
      this.next();
      name += `.${this.expectName()}`;
    }
    return name;
  }

  private filter(node: Expr | undefined, startInline = false): Expr {
    let out: Expr = node ?? { kind: "name", name: FILTER_INPUT };
    while (this.isOp("|") || startInline) {
      if (!startInline) this.next();
      startInline = false;
      const name = this.dottedName();
      const args = this.isOp("(") ? this.callArgs() : { args: [], kwargs: [] };
      out = { kind: "filter", node: out, name, ...args };
    }
    return out;
  }

  private test(node: Expr): Expr {
    this.next();
    const negated = this.isName("not");
    if (negated) this.next();
    const name = this.dottedName();
    let args: CallArgs = { args: [], kwargs: [] };
    const t = this.cur;
    if (this.isOp("(")) args = this.callArgs();
    else if (
      (["name", "string", "integer", "float"].includes(t.type) ||
        this.isOp("[") ||
        this.isOp("{")) &&
      !["else", "or", "and"].some((k) => this.isName(k))
    ) {
      if (this.isName("is")) this.fail("You cannot chain multiple tests with is");
      args = { args: [this.postfix(this.primary())], kwargs: [] };
    }
    const test: Expr = { kind: "test", node, name, ...args };
    return negated ? { kind: "unary", op: "not", node: test } : test;
  }
}

/** Parse a template into statements; TemplateSyntaxError as Jinja2 raises it. */
export function parseTemplate(source: string): Stmt[] {
  return new Parser(tokenize(source)).template();
}
