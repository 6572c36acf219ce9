import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { parseColumnSpec } from "../../../../lambda/jobs/db-from-s3/column-spec";
import { thrownProblems } from "../../../support/rejection";

const AT = "job j: parameters.columns[0]";
const AFTER_TYPE = "after the type only NOT NULL, NULL, PRIMARY KEY, UNIQUE and DEFAULT <constant>";

/** The one problem parseColumnSpec reports for `spec`, with the usual prefix. */
const refusal = (spec: string) => thrownProblems(() => parseColumnSpec(spec, false, AT));
const definition = (spec: string) => parseColumnSpec(spec, false, AT).definition;

describe("parseColumnSpec: names", () => {
  it("splits the name from the definition and quotes it", () => {
    expect(parseColumnSpec("id INTEGER PRIMARY KEY", false)).toEqual({
      name: "id",
      definition: '"id" INTEGER PRIMARY KEY',
      key: "PRIMARY KEY",
      unkeyed: '"id" INTEGER NOT NULL',
    });
  });

  it("gives a keyed column's definition without its key, as PostgreSQL reads the key", () => {
    const unkeyed = (spec: string) => {
      const c = parseColumnSpec(spec, false);
      return [c.key, c.unkeyed];
    };
    expect(unkeyed("code TEXT UNIQUE DEFAULT 'x'")).toEqual([
      "UNIQUE",
      "\"code\" TEXT DEFAULT 'x'",
    ]);
    expect(unkeyed("id INT NOT NULL PRIMARY KEY")).toEqual(["PRIMARY KEY", '"id" INT NOT NULL']);
    // PostgreSQL: NULL before PRIMARY KEY still makes the column NOT NULL; UNIQUE beside it adds no index.
    expect(unkeyed("id INT NULL PRIMARY KEY")).toEqual(["PRIMARY KEY", '"id" INT NOT NULL']);
    expect(unkeyed("id INT UNIQUE PRIMARY KEY")).toEqual(["PRIMARY KEY", '"id" INT NOT NULL']);
    expect(unkeyed("note TEXT DEFAULT 'PRIMARY KEY'")).toEqual([undefined, undefined]);
  });

  it("folds an unquoted name to lower case", () => {
    expect(parseColumnSpec("OrderId BIGINT", false)).toEqual({
      name: "orderid",
      definition: '"orderid" BIGINT',
    });
  });

  it("keeps an unquoted name's case with preserve_case", () => {
    expect(parseColumnSpec("OrderId BIGINT", true)).toEqual({
      name: "OrderId",
      definition: '"OrderId" BIGINT',
    });
  });

  it("keeps a quoted name exactly, without folding", () => {
    expect(parseColumnSpec('"Order Id" BIGINT NOT NULL', false)).toEqual({
      name: "Order Id",
      definition: '"Order Id" BIGINT NOT NULL',
    });
  });

  it('reads "" inside a quoted name as one quote and doubles it again when quoting', () => {
    expect(parseColumnSpec('"say ""hi""" TEXT', false)).toEqual({
      name: 'say "hi"',
      definition: '"say ""hi""" TEXT',
    });
  });

  it("quotes a name PostgreSQL reserves, and a unicode name", () => {
    expect(parseColumnSpec("user TEXT", false).definition).toBe('"user" TEXT');
    expect(parseColumnSpec("Größe INT", false)).toEqual({
      name: "größe",
      definition: '"größe" INT',
    });
    expect(parseColumnSpec("a$b INT", false).definition).toBe('"a$b" INT');
  });

  it("trims the spec and joins its words with one space", () => {
    expect(parseColumnSpec("  id \t INTEGER \n NOT   NULL ", false)).toEqual({
      name: "id",
      definition: '"id" INTEGER NOT NULL',
    });
  });

  it("refuses a bad name through checkName", () => {
    expect(thrownProblems(() => parseColumnSpec('"" INT', false, "c"))).toEqual(["c: empty name"]);
    expect(thrownProblems(() => parseColumnSpec(`${"é".repeat(32)} INT`, false, "c"))).toEqual([
      `c: name "${"é".repeat(32)}" is 64 bytes long; PostgreSQL allows at most 63 and would silently truncate it`,
    ]);
  });

  it("says column when no prefix is given", () => {
    expect(thrownProblems(() => parseColumnSpec("id", false))).toEqual([
      'column: column "id": no type after the column name, got "id"',
    ]);
  });
});

describe("parseColumnSpec: types", () => {
  it.each([
    ["amount NUMERIC(12,2)", '"amount" NUMERIC(12,2)'],
    ["price numeric( 10 , 2 )", '"price" numeric(10,2)'],
    ["n NUMERIC(5,-2)", '"n" NUMERIC(5,-2)'],
    ["code VARCHAR(20)", '"code" VARCHAR(20)'],
    ["x DOUBLE PRECISION", '"x" DOUBLE PRECISION'],
    ["c CHARACTER VARYING(10)", '"c" CHARACTER VARYING(10)'],
    ["c char varying", '"c" char varying'],
    ["c NATIONAL CHARACTER VARYING(5)", '"c" NATIONAL CHARACTER VARYING(5)'],
    ["b BIT VARYING(8)", '"b" BIT VARYING(8)'],
    ["ts TIMESTAMP WITH TIME ZONE", '"ts" TIMESTAMP WITH TIME ZONE'],
    ["ts TIMESTAMP(3) WITHOUT TIME ZONE", '"ts" TIMESTAMP(3) WITHOUT TIME ZONE'],
    ["t TIME WITH TIME ZONE", '"t" TIME WITH TIME ZONE'],
    ["tz TIMESTAMPTZ", '"tz" TIMESTAMPTZ'],
    ["i INTERVAL", '"i" INTERVAL'],
    ["i INTERVAL YEAR TO MONTH", '"i" INTERVAL YEAR TO MONTH'],
    ["i INTERVAL DAY TO SECOND(3)", '"i" INTERVAL DAY TO SECOND(3)'],
    ["i INTERVAL(2)", '"i" INTERVAL(2)'],
    ["tags TEXT[]", '"tags" TEXT[]'],
    ["grid INTEGER[3][3]", '"grid" INTEGER[3][3]'],
    ["ids INTEGER ARRAY", '"ids" INTEGER ARRAY'],
    ["ids INTEGER ARRAY[4]", '"ids" INTEGER ARRAY[4]'],
    ["ts TIMESTAMP WITH TIME ZONE[]", '"ts" TIMESTAMP WITH TIME ZONE[]'],
    ["g public.geometry(Point, 4326)", '"g" public.geometry(Point,4326)'],
    ["m sales . mood", '"m" sales.mood'],
    ['c "char"', '"c" "char"'],
    ['m "My Schema"."My Type"', '"m" "My Schema"."My Type"'],
    ["id BIGSERIAL PRIMARY KEY", '"id" BIGSERIAL PRIMARY KEY'],
    ["doc JSONB", '"doc" JSONB'],
  ])("accepts %j", (spec, expected) => {
    expect(definition(spec)).toBe(expected);
  });

  it.each([
    ["id", 'column "id": no type after the column name'],
    ['"Order Id"', 'column "Order Id": no type after the column name'],
    ["id DEFAULT 5", 'column "id": expected a type after the column name, not DEFAULT'],
    ["id NOT NULL", 'column "id": expected a type after the column name, not NOT'],
    ["id CHECK (true)", 'column "id": expected a type after the column name, not CHECK'],
    [
      "id GENERATED ALWAYS AS IDENTITY",
      'column "id": expected a type after the column name, not GENERATED',
    ],
    ["id SETOF INT", 'column "id": expected a type after the column name, not SETOF'],
    ["id 5", 'column "id": expected a type after the column name, not 5'],
    ["id 'text'", 'column "id": expected a type after the column name, not a string'],
    [
      // What YAML's flow list [a, amount NUMERIC(12,2)] leaves of an unquoted spec.
      "amount NUMERIC(12",
      "column \"amount\": unbalanced '(' (in a YAML [list], quote a spec holding a comma)",
    ],
    ["id NUMERIC(10))", "column \"id\": unbalanced ')'"],
    ["id NUMERIC()", "column \"id\": type modifiers must be integers or plain names, not ')'"],
    [
      "id VARCHAR(pg_sleep(1))",
      'column "id": type modifiers must be integers or plain names, not pg_sleep(…)',
    ],
    ["id NUMERIC(1.5)", 'column "id": type modifiers must be integers or plain names, not 1.5'],
    [
      "id NUMERIC('x')",
      'column "id": type modifiers must be integers or plain names, not a string',
    ],
    ["id INT[", "column \"id\": unbalanced '['"],
    ["id INT[x]", 'column "id": array bounds must be an integer, not x'],
    ["id INT ARRAY[]", "column \"id\": ARRAY[…] needs an integer bound, not ']'"],
    ["id sales.", 'column "id": expected a name after "." in the type'],
    ['id ""', 'column "id": type name: empty name'],
    ['id sales.""', 'column "id": type name: empty name'],
    ["ts TIMESTAMP WITH ZONE", 'column "ts": expected TIME ZONE after WITH'],
    ["i INTERVAL DAY TO", 'column "i": expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND after TO'],
  ])("refuses %j", (spec, problem) => {
    expect(refusal(spec)).toEqual([`${AT}: ${problem}, got ${JSON.stringify(spec)}`]);
  });
});

describe("parseColumnSpec: constraints and constant defaults", () => {
  it.each([
    ["code TEXT UNIQUE NOT NULL", '"code" TEXT UNIQUE NOT NULL'],
    ["a INT NULL", '"a" INT NULL'],
    ["id integer primary key", '"id" integer PRIMARY KEY'],
    ["flag BOOLEAN NOT NULL DEFAULT false", '"flag" BOOLEAN NOT NULL DEFAULT FALSE'],
    ["flag BOOLEAN DEFAULT TRUE", '"flag" BOOLEAN DEFAULT TRUE'],
    ["n INTEGER DEFAULT 0", '"n" INTEGER DEFAULT 0'],
    ["n INTEGER DEFAULT -1", '"n" INTEGER DEFAULT -1'],
    ["n INTEGER DEFAULT - 1", '"n" INTEGER DEFAULT -1'],
    ["r REAL DEFAULT +1.5e3", '"r" REAL DEFAULT 1.5e3'],
    ["r NUMERIC DEFAULT .5", '"r" NUMERIC DEFAULT .5'],
    ["r NUMERIC DEFAULT 2.", '"r" NUMERIC DEFAULT 2.'],
    ["r NUMERIC DEFAULT 1E-3", '"r" NUMERIC DEFAULT 1E-3'],
    ["s TEXT DEFAULT 'it''s'", "\"s\" TEXT DEFAULT 'it''s'"],
    ["s TEXT DEFAULT ''", "\"s\" TEXT DEFAULT ''"],
    ["s TEXT DEFAULT 'a;b -- c /* d */ $$'", "\"s\" TEXT DEFAULT 'a;b -- c /* d */ $$'"],
    ["s TEXT DEFAULT NULL", '"s" TEXT DEFAULT NULL'],
    ["d DATE DEFAULT '2020-01-01' NOT NULL", "\"d\" DATE DEFAULT '2020-01-01' NOT NULL"],
    ["t INT[] DEFAULT '{1,2}'", "\"t\" INT[] DEFAULT '{1,2}'"],
  ])("accepts %j", (spec, expected) => {
    expect(definition(spec)).toBe(expected);
  });

  it("renders a string holding a backslash so it reads the same whatever standard_conforming_strings is", () => {
    expect(definition("s TEXT DEFAULT 'a\\b'")).toBe("\"s\" TEXT DEFAULT E'a\\\\b'");
  });

  it.each([
    // DEFAULT expressions
    [
      "id int DEFAULT (pg_sleep(5))",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not '('",
    ],
    [
      "id int DEFAULT pg_sleep(5)",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not pg_sleep(…)",
    ],
    [
      "u TEXT DEFAULT current_user",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not current_user",
    ],
    [
      "ts TIMESTAMP DEFAULT now()",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not now(…)",
    ],
    [
      "ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not CURRENT_TIMESTAMP",
    ],
    [
      "d DATE DEFAULT CAST('x' AS date)",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not CAST(…)",
    ],
    [
      "d DATE DEFAULT date '2020-01-01'",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not date",
    ],
    [
      "d INT[] DEFAULT ARRAY[1]",
      "DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not ARRAY",
    ],
    ["n INT DEFAULT", "DEFAULT needs a constant (a number, a 'string', TRUE, FALSE or NULL)"],
    ["n INT DEFAULT - - 1", "a sign must be followed by a number, not '-'"],
    ["n INT DEFAULT -'1'", "a sign must be followed by a number, not a string"],
    ["n INT DEFAULT 1 + 1", "DEFAULT must be one constant, not followed by '+'"],
    ["s TEXT DEFAULT 'a' 'b'", "DEFAULT must be one constant, not followed by a string"],
    ["n INT DEFAULT 1 DEFAULT 2", "DEFAULT given twice"],
    // other constraints
    ["p INT CHECK (p > 0)", `CHECK is not allowed: ${AFTER_TYPE} may follow`],
    ["p INT CHECK (pg_sleep(5) IS NULL)", `CHECK is not allowed: ${AFTER_TYPE} may follow`],
    [
      "id INT GENERATED ALWAYS AS (id * 2) STORED",
      `GENERATED is not allowed: ${AFTER_TYPE} may follow`,
    ],
    ["c INT REFERENCES other(id)", `REFERENCES is not allowed: ${AFTER_TYPE} may follow`],
    ['c TEXT COLLATE "C"', `COLLATE is not allowed: ${AFTER_TYPE} may follow`],
    ["c INT CONSTRAINT pk PRIMARY KEY", `CONSTRAINT is not allowed: ${AFTER_TYPE} may follow`],
    ["c INT UNIQUE WITH (fillfactor = 50)", `WITH is not allowed: ${AFTER_TYPE} may follow`],
    [
      "c INT PRIMARY KEY USING INDEX TABLESPACE x",
      `USING is not allowed: ${AFTER_TYPE} may follow`,
    ],
    ["c INT DEFERRABLE", `DEFERRABLE is not allowed: ${AFTER_TYPE} may follow`],
    ["c TEXT STORAGE PLAIN", `STORAGE is not allowed: ${AFTER_TYPE} may follow`],
    ["c INT UNIQUE NULLS NOT DISTINCT", `NULLS is not allowed: ${AFTER_TYPE} may follow`],
    ["c TEXT DEFAULT 'x' COLLATE \"C\"", `COLLATE is not allowed: ${AFTER_TYPE} may follow`],
    ["c INT NOT", "NOT must be followed by NULL"],
    ["c INT NOT DEFERRABLE", "NOT must be followed by NULL, not DEFERRABLE"],
    ["c INT PRIMARY", "PRIMARY must be followed by KEY"],
    ["c INT NULL NULL", "NULL given twice"],
    ["c INT NOT NULL NULL", "NULL and NOT NULL contradict each other"],
    ["c INT 'x'", `a string is not allowed: ${AFTER_TYPE} may follow`],
    ["id INT, name TEXT", "',' is not allowed: give one column per entry"],
    ["id INT) , (x INT", "unbalanced ')'"],
  ])("refuses %j", (spec, problem) => {
    const name = spec.split(" ")[0];
    expect(refusal(spec)).toEqual([
      `${AT}: column "${name}": ${problem}, got ${JSON.stringify(spec)}`,
    ]);
  });
});

describe("parseColumnSpec: definitions", () => {
  it.each([
    "amount NUMERIC( 12 , 2 ) NOT NULL DEFAULT -0.5",
    "ts timestamp ( 3 ) with time zone [ ] unique",
    'm "My Schema" . "My Type" ARRAY [ 2 ] PRIMARY KEY',
    "s TEXT DEFAULT 'it''s' NULL",
    "i INTERVAL DAY TO SECOND ( 3 ) DEFAULT '1 day'",
  ])("rebuilds %j into a definition that parses back to itself", (spec) => {
    const once = definition(spec);
    expect(definition(once)).toBe(once);
  });
});

describe("parseColumnSpec: what can never reach the SQL", () => {
  it.each([
    ["id INT; DROP TABLE x", "';' is not allowed"],
    ["id INT DEFAULT 1; DROP TABLE x", "';' is not allowed"],
    ["id INT -- note", "comments (--) are not allowed"],
    ["id INT DEFAULT --1", "comments (--) are not allowed"],
    ["id INT /* note */", "comments (/* */) are not allowed"],
    ["id TEXT DEFAULT $$x$$", "dollar-quoted strings are not allowed"],
    ["id TEXT DEFAULT $x$it's; ok$x$", "dollar-quoted strings are not allowed"],
    ["id INT DEFAULT $1", "'$' is not allowed"],
    ["id TEXT DEFAULT E'it\\'s'", "E'…' strings are not allowed: write a plain '…' string"],
    ["id TEXT DEFAULT e'\\x41'", "E'…' strings are not allowed: write a plain '…' string"],
    ["id TEXT DEFAULT U&'d\\0061t'", "U&'…' strings are not allowed: write a plain '…' string"],
    ["id BIT(3) DEFAULT B'101'", "B'…' strings are not allowed: write a plain '…' string"],
    ["id BIT(8) DEFAULT X'1F'", "X'…' strings are not allowed: write a plain '…' string"],
    ["id TEXT DEFAULT N'x'", "N'…' strings are not allowed: write a plain '…' string"],
    ["d DATE DEFAULT '2020-01-01'::date", "casts (::) are not allowed"],
    ["id TEXT DEFAULT 'a' || current_user", 'unexpected character "|"'],
    ["id INT DEFAULT 5x", "a number must not run into letters: 5x"],
    ["id INT DEFAULT 0x1F", "a number must not run into letters: 0x1F"],
    ["id INT DEFAULT 1_000", "a number must not run into letters: 1_000"],
    ["id INT DEFAULT 'x", "unterminated 'string'"],
    ['id "INT', 'unterminated "quoted name"'],
    ["id INT\u0000", "contains a NUL character"],
    ["id TEXT DEFAULT '\ud800'", "contains an unpaired surrogate (not valid Unicode)"],
  ])("refuses %j", (spec, problem) => {
    const name = spec.split(" ")[0];
    expect(refusal(spec)).toEqual([
      `${AT}: column "${name}": ${problem}, got ${JSON.stringify(spec)}`,
    ]);
  });

  it.each([
    ["", "empty column spec"],
    ["   ", "empty column spec"],
    ['"Order Id BIGINT', 'unterminated "quoted name"'],
    ["1a INT", "a number must not run into letters: 1a"],
    ["(id) INT", "expected a column name (a plain or \"double-quoted\" name), not '('"],
    ["-- x INT", "comments (--) are not allowed"],
  ])("refuses %j without a column name to show", (spec, problem) => {
    expect(refusal(spec)).toEqual([`${AT}: ${problem}, got ${JSON.stringify(spec)}`]);
  });

  it("reads a quote inside an unquoted name as the start of a quoted name, as PostgreSQL does", () => {
    expect(refusal('a"b;c INT')).toEqual([
      `${AT}: column "a": unterminated "quoted name", got "a\\"b;c INT"`,
    ]);
  });
});

describe("parseColumnSpec: every realistic column spec of the project", () => {
  const realmColumns = (file: string): string[] => {
    const doc = parseDocument(readFileSync(file, "utf8")).toJS() as {
      jobs?: { parameters?: { columns?: string[] } }[];
    };
    return (doc.jobs ?? []).flatMap((j) => j.parameters?.columns ?? []);
  };

  it.each([
    ...realmColumns("realms/example.yaml"),
    // tests and the demo realm
    "id INTEGER",
    "name TEXT",
    "object TEXT NOT NULL",
    "n INTEGER NOT NULL",
    "member_id INTEGER PRIMARY KEY",
    "name TEXT NOT NULL",
    "favourite_custard TEXT",
    "tasted_on DATE",
    "stars INTEGER",
    "litres NUMERIC(4,1)",
    // README
    "amount NUMERIC(12, 2)",
  ])("accepts %j", (spec) => {
    expect(() => parseColumnSpec(spec, false, AT)).not.toThrow();
  });

  it("finds the example realm's columns", () => {
    expect(realmColumns("realms/example.yaml").length).toBeGreaterThan(3);
  });
});
