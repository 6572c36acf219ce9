/** The syntax tree of a template, shaped like Jinja2's `nodes`. */

export type Expr =
  | { kind: "const"; value: string | bigint | number | boolean | null }
  | { kind: "name"; name: string }
  | { kind: "tuple"; items: Expr[] }
  | { kind: "list"; items: Expr[] }
  | { kind: "dict"; items: [Expr, Expr][] }
  | { kind: "getattr"; node: Expr; attr: string }
  | { kind: "getitem"; node: Expr; arg: Expr }
  | { kind: "slice"; start?: Expr; stop?: Expr; step?: Expr }
  | ({ kind: "call"; node: Expr } & CallArgs)
  | ({ kind: "filter"; node: Expr; name: string } & CallArgs)
  | ({ kind: "test"; node: Expr; name: string } & CallArgs)
  | { kind: "binop"; op: string; left: Expr; right: Expr }
  | { kind: "unary"; op: "-" | "+" | "not"; node: Expr }
  | { kind: "compare"; expr: Expr; ops: [string, Expr][] }
  | { kind: "concat"; nodes: Expr[] }
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "cond"; test: Expr; expr1: Expr; expr2?: Expr };

export interface CallArgs {
  args: Expr[];
  kwargs: [string, Expr][];
  dynArgs?: Expr;
  dynKwargs?: Expr;
}

/** An assignment target: a name, `ns.attr`, or a tuple of targets. */
export type Target =
  | { kind: "name"; name: string }
  | { kind: "nsref"; name: string; attr: string }
  | { kind: "tuple"; items: Target[] };

export type Stmt =
  | { kind: "data"; text: string }
  | { kind: "output"; expr: Expr }
  | {
      kind: "for";
      target: Target;
      iter: Expr;
      body: Stmt[];
      else_: Stmt[];
      test?: Expr;
      recursive: boolean;
    }
  | { kind: "if"; test: Expr; body: Stmt[]; else_: Stmt[] }
  | { kind: "set"; target: Target; expr: Expr }
  | { kind: "setblock"; target: Target; body: Stmt[]; filter?: Expr }
  | { kind: "with"; targets: [Target, Expr][]; body: Stmt[] }
  | {
      kind: "macro";
      name: string;
      args: string[];
      defaults: Expr[];
      body: Stmt[];
    }
  | { kind: "filterblock"; filter: Expr; body: Stmt[] }
  | { kind: "scope"; body: Stmt[] };
