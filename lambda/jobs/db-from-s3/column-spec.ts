/**
 * Column specs of a db_from_s3 job (`parameters.columns`, docs/db-from-s3.md §5), e.g.
 * `id INTEGER PRIMARY KEY`: parsed by a small grammar and rendered back to
 * SQL from the parsed parts only, so the raw text never reaches
 * `CREATE TABLE … (…)`.
 *
 * The grammar is deliberately narrow. A column is a name, a type, and any of
 * `NOT NULL`, `NULL`, `PRIMARY KEY`, `UNIQUE`, `DEFAULT <constant>`. Nothing
 * that evaluates an expression is accepted: no CHECK, GENERATED, REFERENCES,
 * COLLATE, casts, function calls or parenthesised defaults — a column spec can
 * come from a dispatch (when the job allows it), and an expression there could
 * call any function (`pg_sleep`, `current_user`, …) as the loading user.
 */
import { SpecError } from "../../shared/errors";
import { showValue } from "../../spec/format";
import { type ColumnToken, tokenizeColumn } from "./column-tokens";
import { checkName, foldName, quoteIdent } from "./identifiers";
import { sqlLiteral } from "./sql-literal";

/** A lava column spec split into its name and a safe column definition. */
export interface ColumnSpec {
  /** The column name, folded unless it was double-quoted or `preserveCase`. */
  readonly name: string;
  /** The definition rebuilt from the parsed spec: `"id" INTEGER PRIMARY KEY`. */
  readonly definition: string;
  /**
   * Its index-backed constraint (`PRIMARY KEY`, else `UNIQUE`), when it has one,
   * with `unkeyed`: the definition without it (`NOT NULL` kept for a primary key),
   * so a load can build the key once the rows are in (fan-out.ts).
   */
  readonly key?: ColumnKey;
  readonly unkeyed?: string;
}

/** A column's index-backed constraint. */
export type ColumnKey = "PRIMARY KEY" | "UNIQUE";

/**
 * Words that cannot start a type: PostgreSQL's reserved keywords, and the
 * unreserved ones that start a column clause (so the message names the clause).
 */
const NOT_A_TYPE = new Set(
  (
    "ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK COLLATE COLUMN " +
    "CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME CURRENT_TIMESTAMP " +
    "CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FROM " +
    "GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL LEADING LIMIT LOCALTIME LOCALTIMESTAMP " +
    "NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY REFERENCES RETURNING SELECT SESSION_USER SOME " +
    "SYMMETRIC SYSTEM_USER TABLE THEN TO TRAILING TRUE UNION UNIQUE USER USING VARIADIC WHEN WHERE " +
    "WINDOW WITH GENERATED SETOF STORAGE COMPRESSION"
  ).split(" "),
);
const INTERVAL_FIELDS = ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"];
const VARYING_TYPES = new Set(["CHARACTER", "CHAR", "NCHAR", "BIT"]);
const AFTER_TYPE =
  "after the type only NOT NULL, NULL, PRIMARY KEY, UNIQUE and DEFAULT <constant> may follow";
const CONSTANT = "a constant (a number, a 'string', TRUE, FALSE or NULL)";

class Refusal extends Error {}

/**
 * Reads the tokens of one spec left to right. Where the tokenizer stopped on
 * a problem, looking there raises that problem: a spec is refused for the
 * first thing wrong in it, lexical or not.
 */
class Cursor {
  i = 0;
  constructor(
    readonly tokens: readonly ColumnToken[],
    readonly problem: string | undefined,
  ) {}

  peek(ahead = 0): ColumnToken | undefined {
    const at = this.i + ahead;
    if (at >= this.tokens.length && this.problem !== undefined) throw new Refusal(this.problem);
    return this.tokens[at];
  }
  /** The upper-cased text of the next token if it is a plain word. */
  word(ahead = 0): string | undefined {
    const t = this.peek(ahead);
    return t?.kind === "word" ? t.text.toUpperCase() : undefined;
  }
  isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === "punct" && t.text === text;
  }
  take(): ColumnToken | undefined {
    const t = this.tokens[this.i];
    if (t !== undefined) this.i++;
    return t;
  }
  /** How the next token reads in a message: `CHECK`, `'('`, `a string`; with `call`, `now(…)`. */
  describe(call = false): string {
    const t = this.peek();
    if (t === undefined) return "the end";
    switch (t.kind) {
      case "word":
        return call && this.isPunct("(", 1) ? `${t.text}(…)` : t.text;
      case "number":
        return t.text;
      case "string":
        return "a string";
      case "ident":
        return showValue(t.value);
      case "punct":
        return `'${t.text}'`;
    }
  }
}

/**
 * Parse a lava column spec like `id INTEGER PRIMARY KEY` or `"Order Id" BIGINT`.
 *
 * The name is a plain word, folded ({@link foldName}), or a double-quoted name,
 * kept exactly (`""` read as `"`). The type is a type name (schema-qualified or
 * quoted if need be) with integer or name modifiers (`NUMERIC(12,2)`,
 * `geometry(Point,4326)`), SQL's multi-word types (`DOUBLE PRECISION`,
 * `CHARACTER VARYING(10)`, `TIMESTAMP(3) WITH TIME ZONE`, `INTERVAL DAY TO
 * SECOND`), and array bounds (`[]`, `[3]`, `ARRAY[4]`). Then any of `NOT NULL`,
 * `NULL`, `PRIMARY KEY`, `UNIQUE`, and `DEFAULT` with a number (signed or not),
 * a plain `'string'`, `TRUE`, `FALSE` or `NULL`. Everything else is refused.
 *
 * @param what prefix of the problem messages, e.g. `job sales/load: parameters.columns[0]`;
 *   the message then names the column when its name could be read
 * @throws SpecError with one problem `${what}: column "<name>": …, got <spec>`
 */
export function parseColumnSpec(spec: string, preserveCase: boolean, what = "column"): ColumnSpec {
  const { tokens, problem } = tokenizeColumn(spec);
  const cursor = new Cursor(tokens, problem);
  const first = tokens[0];
  let name: string | undefined;
  if (first?.kind === "word") name = foldName(first.text, preserveCase);
  else if (first?.kind === "ident") name = first.value;
  const fail = (message: string): never => {
    const column = name === undefined ? "" : `column ${showValue(name)}: `;
    throw new SpecError([`${what}: ${column}${message}, got ${showValue(spec)}`]);
  };
  if (first === undefined) return fail(problem ?? "empty column spec");
  if (name === undefined) {
    return fail(
      `expected a column name (a plain or "double-quoted" name), not ${cursor.describe()}`,
    );
  }
  checkName(name, what);
  cursor.take();
  try {
    const type = parseType(cursor);
    const constraints = parseConstraints(cursor);
    if (problem !== undefined) return fail(problem);
    const head = [quoteIdent(name, what), type];
    const definition = [...head, ...constraints].join(" ");
    // As PostgreSQL takes them: a primary key makes the column NOT NULL (even after
    // NULL) and a UNIQUE beside it adds no second index.
    const primary = constraints.includes("PRIMARY KEY");
    if (!primary && !constraints.includes("UNIQUE")) return { name, definition };
    const rest = constraints.filter(
      (c) => c !== "PRIMARY KEY" && c !== "UNIQUE" && !(primary && c === "NULL"),
    );
    // A primary key's NOT NULL stays on the column: a row without a key fails at its line.
    const notNull = primary && !rest.includes("NOT NULL") ? ["NOT NULL"] : [];
    return {
      name,
      definition,
      key: primary ? "PRIMARY KEY" : "UNIQUE",
      unkeyed: [...head, ...notNull, ...rest].join(" "),
    };
  } catch (err) {
    if (err instanceof Refusal) return fail(err.message);
    throw err;
  }
}

/** The type, rendered from its tokens. */
function parseType(c: Cursor): string {
  const first = c.peek();
  if (first === undefined) throw new Refusal("no type after the column name");
  const upper = c.word();
  if (first.kind !== "ident" && (upper === undefined || NOT_A_TYPE.has(upper))) {
    throw new Refusal(`expected a type after the column name, not ${c.describe()}`);
  }
  const words = [typeNamePart(c)];
  const wordIf = (...accepted: string[]) => {
    const w = c.word();
    if (w === undefined || !accepted.includes(w)) return false;
    words.push(String((c.take() as { text: string }).text));
    return true;
  };
  let modifiers = "";
  if (upper === "DOUBLE") {
    wordIf("PRECISION");
  } else if (upper === "NATIONAL") {
    if (wordIf("CHARACTER", "CHAR")) wordIf("VARYING");
  } else if (upper !== undefined && VARYING_TYPES.has(upper)) {
    wordIf("VARYING");
  } else if (upper === "TIMESTAMP" || upper === "TIME") {
    modifiers = typeModifiers(c);
    if (wordIf("WITH", "WITHOUT")) {
      const by = words[words.length - 1]?.toUpperCase();
      if (!wordIf("TIME") || !wordIf("ZONE")) throw new Refusal(`expected TIME ZONE after ${by}`);
    }
  } else if (upper === "INTERVAL") {
    if (wordIf(...INTERVAL_FIELDS) && wordIf("TO") && !wordIf(...INTERVAL_FIELDS)) {
      throw new Refusal(
        `expected ${INTERVAL_FIELDS.join(", ").replace(/, (?=\w+$)/, " or ")} after TO`,
      );
    }
  } else {
    while (c.isPunct(".")) {
      c.take();
      const part = c.peek();
      if (part?.kind !== "word" && part?.kind !== "ident") {
        throw new Refusal('expected a name after "." in the type');
      }
      words[words.length - 1] += `.${typeNamePart(c)}`;
    }
  }
  let text = words.join(" ");
  if (modifiers) {
    // TIMESTAMP(3) WITH TIME ZONE: the precision follows the first word.
    text = `${words[0]}${modifiers}${words.length > 1 ? ` ${words.slice(1).join(" ")}` : ""}`;
  } else {
    text += typeModifiers(c);
  }
  return text + arrayBounds(c);
}

/** A type name word as written, or a quoted name re-quoted. */
function typeNamePart(c: Cursor): string {
  const t = c.take();
  if (t?.kind !== "ident") return (t as { text: string }).text;
  try {
    return quoteIdent(t.value, "type name");
  } catch (err) {
    if (err instanceof SpecError) throw new Refusal(err.problems.join("; "));
    throw err;
  }
}

/** `(12,2)`, `(Point,4326)`, `(5,-2)` or nothing. */
function typeModifiers(c: Cursor): string {
  if (!c.isPunct("(")) return "";
  c.take();
  const items: string[] = [];
  for (;;) {
    let sign = "";
    if (c.isPunct("-") || c.isPunct("+")) sign = (c.take() as { text: string }).text;
    const t = c.peek();
    const integer = t?.kind === "number" && /^[0-9]+$/.test(t.text);
    if (!integer && (sign || t?.kind !== "word" || c.isPunct("(", 1))) {
      if (t === undefined) throw new Refusal("unbalanced '('");
      throw new Refusal(`type modifiers must be integers or plain names, not ${c.describe(true)}`);
    }
    items.push(`${sign === "-" ? "-" : ""}${(c.take() as { text: string }).text}`);
    if (c.isPunct(")")) {
      c.take();
      return `(${items.join(",")})`;
    }
    // `[a, b NUMERIC(12,2)]` in YAML's flow style splits at that comma.
    if (c.peek() === undefined)
      throw new Refusal("unbalanced '(' (in a YAML [list], quote a spec holding a comma)");
    if (!c.isPunct(",")) {
      throw new Refusal(
        `type modifiers must be integers or plain names separated by ',', not ${c.describe()}`,
      );
    }
    c.take();
  }
}

/** `[]`, `[3][3]`, `ARRAY`, `ARRAY[4]` or nothing. */
function arrayBounds(c: Cursor): string {
  let out = "";
  if (c.word() === "ARRAY") {
    out += ` ${(c.take() as { text: string }).text}`;
    if (!c.isPunct("[")) return out;
    c.take();
    const t = c.peek();
    if (t?.kind !== "number" || !/^[0-9]+$/.test(t.text)) {
      throw new Refusal(`ARRAY[…] needs an integer bound, not ${c.describe()}`);
    }
    c.take();
    if (!c.isPunct("]")) throw new Refusal("unbalanced '['");
    c.take();
    return `${out}[${t.text}]`;
  }
  while (c.isPunct("[")) {
    c.take();
    let bound = "";
    const t = c.peek();
    if (t?.kind === "number" && /^[0-9]+$/.test(t.text)) {
      bound = t.text;
      c.take();
    } else if (t !== undefined && !c.isPunct("]")) {
      throw new Refusal(`array bounds must be an integer, not ${c.describe()}`);
    }
    if (!c.isPunct("]")) throw new Refusal("unbalanced '['");
    c.take();
    out += `[${bound}]`;
  }
  return out;
}

/** NOT NULL, NULL, PRIMARY KEY, UNIQUE and DEFAULT <constant>, each at most once. */
function parseConstraints(c: Cursor): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const once = (clause: string) => {
    if (seen.has(clause)) throw new Refusal(`${clause} given twice`);
    if (
      (clause === "NULL" && seen.has("NOT NULL")) ||
      (clause === "NOT NULL" && seen.has("NULL"))
    ) {
      throw new Refusal("NULL and NOT NULL contradict each other");
    }
    seen.add(clause);
  };
  while (c.peek() !== undefined) {
    const w = c.word();
    if (w === "NOT") {
      c.take();
      if (c.word() !== "NULL") {
        const next = c.peek() === undefined ? "" : `, not ${c.describe()}`;
        throw new Refusal(`NOT must be followed by NULL${next}`);
      }
      c.take();
      once("NOT NULL");
      out.push("NOT NULL");
    } else if (w === "NULL" || w === "UNIQUE") {
      c.take();
      once(w);
      out.push(w);
    } else if (w === "PRIMARY") {
      c.take();
      if (c.word() !== "KEY") throw new Refusal("PRIMARY must be followed by KEY");
      c.take();
      once("PRIMARY KEY");
      out.push("PRIMARY KEY");
    } else if (w === "DEFAULT") {
      c.take();
      once("DEFAULT");
      out.push(`DEFAULT ${constant(c)}`);
      const t = c.peek();
      if (t !== undefined && t.kind !== "word") {
        throw new Refusal(`DEFAULT must be one constant, not followed by ${c.describe()}`);
      }
    } else if (c.isPunct(",")) {
      throw new Refusal("',' is not allowed: give one column per entry");
    } else if (c.isPunct(")")) {
      throw new Refusal("unbalanced ')'");
    } else {
      throw new Refusal(`${c.describe()} is not allowed: ${AFTER_TYPE}`);
    }
  }
  return out;
}

/** The constant after DEFAULT, rendered: a number, a string literal, TRUE, FALSE or NULL. */
function constant(c: Cursor): string {
  const t = c.peek();
  if (t === undefined) throw new Refusal(`DEFAULT needs ${CONSTANT}`);
  if (t.kind === "punct" && (t.text === "-" || t.text === "+")) {
    c.take();
    const n = c.peek();
    if (n?.kind !== "number") {
      throw new Refusal(`a sign must be followed by a number, not ${c.describe()}`);
    }
    c.take();
    // `-5` is folded into a negative constant by PostgreSQL's grammar; a unary `+` would be an operator call.
    return t.text === "-" ? `-${n.text}` : n.text;
  }
  if (t.kind === "number") return (c.take() as { text: string }).text;
  if (t.kind === "string") {
    c.take();
    return sqlLiteral(t.value);
  }
  const w = c.word();
  if ((w === "TRUE" || w === "FALSE" || w === "NULL") && !c.isPunct("(", 1)) {
    c.take();
    return w;
  }
  throw new Refusal(`DEFAULT must be ${CONSTANT}, not ${c.describe(true)}`);
}
