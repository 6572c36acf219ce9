import { describe, expect, it } from "vitest";
import {
  compileRegexName,
  isRegexName,
  keyWithoutSuffixes,
  nameFromKey,
} from "../../../../lambda/jobs/db-from-s3/regex-name";
import { thrownProblems } from "../../../support/rejection";

const AT = "job sales/load: parameters.table";

describe("keyWithoutSuffixes", () => {
  it.each([
    ["a/b/c.csv.gz", "a/b/c"],
    ["a/b/c.csv", "a/b/c"],
    ["a/b.d/c", "a/b.d/c"],
    ["a/b.d/c.csv", "a/b.d/c"],
    ["a/b/c", "a/b/c"],
    ["c.csv.gz", "c"],
    ["c", "c"],
    ["a/b/.hidden", "a/b/.hidden"],
    ["a/b/.env.csv", "a/b/.env"],
    ["a/..x.y", "a/..x"],
    [".csv", ".csv"],
    ["a/b/", "a/b"],
    ["/c.csv", "c"],
    ["/a/c.csv", "/a/c"],
    ["a//c.csv", "a//c"],
    ["", ""],
  ])("turns %j into %j, as lava's splitext2 does", (key, stripped) => {
    expect(keyWithoutSuffixes(key)).toBe(stripped);
  });
});

describe("isRegexName", () => {
  it.each([
    ["/^sales\\/([^/]+)", true],
    ["/", true],
    ["orders", false],
    ["", false],
    [" /x", false],
  ])("says %j is %s", (value, regex) => {
    expect(isRegexName(value)).toBe(regex);
  });
});

describe("nameFromKey", () => {
  it("captures the table from a lava-style key", () => {
    expect(nameFromKey("/^sales\\/([^/]+)", "sales/orders.csv.gz", AT)).toBe("orders");
  });

  it("accepts Python named groups", () => {
    expect(nameFromKey("/(?P<t>[a-z_]+)$", "in/daily/sales_orders.csv", AT)).toBe("sales_orders");
  });

  it("accepts Python named back references", () => {
    expect(nameFromKey("/^(?P<t>[a-z]+)\\/(?P=t)-", "eu/eu-2024.csv", AT)).toBe("eu");
  });

  it("refuses JavaScript named groups, as Python does", () => {
    expect(thrownProblems(() => nameFromKey("/^x\\/(?<t>[^/]+)", "x/y.csv", AT))).toEqual([
      `${AT}: invalid regular expression "/^x\\\\/(?<t>[^/]+)": unknown extension ?<t at position 5`,
    ]);
  });

  it.each([
    ["/(?i)^SALES\\/([a-z]+)", "sales/Orders.csv", "Orders"],
    ["/(?im)^([a-z]+)$", "x/1\nAbc", "Abc"],
    ["/(?s)^in\\/(.+)$", "in/a\nb", "a\nb"],
    ["/(?x) ^ in / (?P<t> [a-z_]+ )  # the table", "in/orders.csv", "orders"],
    ["/(?a)^in\\/(\\w+)", "in/café", "caf"],
    ["/^sales\\-(\\w+)", "sales-2024.csv", "2024"],
    ["/^in\\/(\\w+)\\Z", "in/orders.csv", "orders"],
    ["/\\Ain\\/(\\w+)", "in/orders.csv", "orders"],
    ["/^a\\ \\#\\~\\'\\\"(\\w+)", "a #~'\"b", "b"],
    ["/^in\\/(\\d+)", "in/١٢٣.csv", "١٢٣"],
    ["/^in\\/(\\w+)", "in/café.csv", "café"],
    ["/\\bé(\\w+)", "in/été.csv", "té"],
    ["/^in\\/(.+)", "in/a\rb", "a\rb"],
    ["/(?>\\w+)\\/(\\w+)", "in/orders", "orders"],
    ["/^(\\w++)\\/", "abc/def/g", "abc"],
  ])("reads the Python regex %j: key %j gives %j", (pattern, key, name) => {
    expect(nameFromKey(pattern, key, AT)).toBe(name);
  });

  it("takes Python's $ as the end or before a final newline, \\Z as the very end", () => {
    expect(nameFromKey("/^in\\/([a-z]+)$", "in/orders\n", AT)).toBe("orders");
    expect(thrownProblems(() => nameFromKey("/^in\\/([a-z]+)\\Z", "in/orders\n", AT))).toEqual([
      `${AT}: regular expression "/^in\\\\/([a-z]+)\\\\Z" does not match key "in/orders\\n" (searched in "in/orders\\n")`,
    ]);
  });

  it("leaves an escaped (?P< alone", () => {
    expect(nameFromKey("/^\\(?P<([a-z]+)>", "P<abc>.txt", AT)).toBe("abc");
  });

  it("leaves (?P< inside a character class alone", () => {
    expect(nameFromKey("/^[(?P<]+([a-z]+)", "(P<abc.txt", AT)).toBe("abc");
  });

  it("searches without anchoring", () => {
    expect(nameFromKey("/landing\\/([a-z]+)", "root/landing/orders/2024/x.csv", AT)).toBe("orders");
  });

  it("searches the key without its suffixes", () => {
    expect(nameFromKey("/([^/]+)$", "sales/2024.01/orders.csv.gz", AT)).toBe("orders");
  });

  it("keeps dots of directories", () => {
    expect(nameFromKey("/^([^/]+)\\/", "v1.2/orders.csv", AT)).toBe("v1.2");
  });

  it("returns the capture as it is, without folding", () => {
    expect(nameFromKey("/([^/]+)$", "in/Sales_Orders.csv", AT)).toBe("Sales_Orders");
  });

  it("ignores non-capturing groups and lookarounds", () => {
    expect(nameFromKey("/(?:in|out)\\/(?=o)([a-z]+)", "out/orders.csv", AT)).toBe("orders");
  });

  it.each([
    ['in/a"b.csv', 'a"b'],
    ["in/x; DROP TABLE y; --", "x; DROP TABLE y; --"],
    ["in/a'b", "a'b"],
    ["in/日本語", "日本語"],
    ["in/😀.csv", "😀"],
    [`in/${"z".repeat(900)}.csv`, "z".repeat(900)],
  ])("returns hostile key part %j verbatim", (key, name) => {
    expect(nameFromKey("/^in\\/(.+)$", key, AT)).toBe(name);
  });

  it("compiles with the v flag, so . matches a whole astral character", () => {
    expect(nameFromKey("/^in\\/(.)$", "in/😀", AT)).toBe("😀");
  });

  it("refuses a value without the leading /", () => {
    expect(thrownProblems(() => nameFromKey("([a-z]+)", "x", AT))).toEqual([
      `${AT}: expected a /regex, got "([a-z]+)"`,
    ]);
  });

  it("refuses a key the regex does not match, naming key and pattern", () => {
    expect(thrownProblems(() => nameFromKey("/^sales\\/([^/]+)", "hr/staff.csv", AT))).toEqual([
      `${AT}: regular expression "/^sales\\\\/([^/]+)" does not match key "hr/staff.csv" (searched in "hr/staff")`,
    ]);
  });

  it("refuses a match that only the suffix would give", () => {
    expect(thrownProblems(() => nameFromKey("/\\.(csv)", "in/orders.csv", AT))).toEqual([
      `${AT}: regular expression "/\\\\.(csv)" does not match key "in/orders.csv" (searched in "in/orders")`,
    ]);
  });

  it("refuses a regex without a capture group", () => {
    expect(thrownProblems(() => nameFromKey("/^sales\\/[^/]+", "sales/x.csv", AT))).toEqual([
      `${AT}: regular expression "/^sales\\\\/[^/]+" has no capture group; put ( ) around the part of the key that is the name`,
    ]);
  });

  it("refuses an empty regex", () => {
    expect(thrownProblems(() => nameFromKey("/", "sales/x.csv", AT))).toEqual([
      `${AT}: regular expression "/" has no capture group; put ( ) around the part of the key that is the name`,
    ]);
  });

  it("takes group 1 of a regex with two capture groups, as lava does", () => {
    expect(nameFromKey("/^([a-z]+)\\/([a-z]+)", "sales/orders.csv", AT)).toBe("sales");
  });

  it("takes the first named group as group 1", () => {
    expect(nameFromKey("/(?P<schema>[a-z]+)\\/(?P<table>[a-z]+)", "in/sales/orders", AT)).toBe(
      "in",
    );
  });

  it("counts Python's groups, not the helpers of atomic groups and possessive repeats", () => {
    expect(nameFromKey("/(?>in|inx)\\/(\\w++)\\/(\\w+)", "in/orders/x", AT)).toBe("orders");
  });

  it.each([
    ["/([a-z]+", "missing ), unterminated subpattern at position 0"],
    ["/[a-z", "unterminated character set at position 0"],
    ["/\\z(x)", "bad escape \\z at position 0"],
    ["/(x)\\p{L}", "bad escape \\p at position 3"],
    ["/(?P<a>x)(?P<a>y)", "redefinition of group name 'a' as group 2; was group 1 at position 12"],
    ["/x(?i)(y)", "global flags not at the start of the expression at position 1"],
    ["/(?<=in\\/|out\\/)(\\w+)", "look-behind requires fixed-width pattern"],
    ["/(?x)(a # c\n", "missing ), unterminated subpattern at position 4 (line 1, column 5)"],
    ["/(?a)(?u)(x)", "ASCII and UNICODE flags are incompatible"],
  ])("refuses the invalid regex %j with Python's message", (pattern, reason) => {
    expect(thrownProblems(() => nameFromKey(pattern, "x", AT))).toEqual([
      `${AT}: invalid regular expression ${JSON.stringify(pattern)}: ${reason}`,
    ]);
  });

  it("refuses an empty capture", () => {
    expect(thrownProblems(() => nameFromKey("/^in\\/([a-z]*)", "in/123.csv", AT))).toEqual([
      `${AT}: regular expression "/^in\\\\/([a-z]*)" captured an empty name from key "in/123.csv"`,
    ]);
  });

  it("refuses a group that took no part in the match", () => {
    expect(
      thrownProblems(() => nameFromKey("/^in\\/(?:([a-z]+)|[0-9]+)", "in/123.csv", AT)),
    ).toEqual([
      `${AT}: regular expression "/^in\\\\/(?:([a-z]+)|[0-9]+)" captured an empty name from key "in/123.csv"`,
    ]);
  });
});

describe("compileRegexName", () => {
  it.each([
    "/^drops\\/([^/]+)",
    "/(?P<table>[a-z]+)_(?P=table)",
    "/(?i)(\\w+)",
    "/^in\\/(.)$",
    "/^(a)(b)",
  ])("compiles %j, as nameFromKey does", (pattern) => {
    expect(compileRegexName(pattern, AT)).toBeInstanceOf(RegExp);
  });

  it.each([
    ["/^drops\\/([^/]+", "missing ), unterminated subpattern at position 8"],
    ["/([a-z]+", "missing ), unterminated subpattern at position 0"],
    ["/(x)[", "unterminated character set at position 3"],
    ["/(x)\\", "bad escape (end of pattern) at position 3"],
  ])("refuses %j, which does not compile: %s", (pattern, reason) => {
    const [problem] = thrownProblems(() => compileRegexName(pattern, AT));
    expect(problem).toBe(`${AT}: invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    // What check refuses, a run refuses the same way.
    expect(thrownProblems(() => nameFromKey(pattern, "drops/x.csv", AT))).toEqual([problem]);
  });

  it("refuses no group, as nameFromKey does: lava would fail on every key", () => {
    expect(thrownProblems(() => compileRegexName("/^x", AT))).toEqual([
      `${AT}: regular expression "/^x" has no capture group; put ( ) around the part of the key that is the name`,
    ]);
  });

  it.each([
    ["/(a)?(?(1)b|c)", "the conditional group (?(…)…) at position 4 has no JavaScript equivalent"],
    [
      "/(\\N{EM DASH})",
      "the named character escape \\N{…} at position 1 is not supported here: write the character itself, or \\uXXXX",
    ],
    [
      "/(?i:sales)\\/(\\w+)",
      "the group at position 0 turns case-insensitive matching on for part of the pattern, which JavaScript cannot do; put (?i) at the start to make all of it case-insensitive",
    ],
    [
      "/(?:(a)|b)+",
      "group 1 is inside a repeat (its quantifier at position 9) that may match without it: Python then keeps its value from an earlier repetition, JavaScript forgets it",
    ],
    [
      "/(a)?\\1(b)",
      "the back reference at position 4 may refer to group 1 when it took no part in the match: Python then fails to match, JavaScript matches the empty string",
    ],
    [
      "/(a?)*",
      "group 1 is inside a repeat (its quantifier at position 4) of something that can match the empty string: Python then makes one more, empty, repetition and sets the group to it, JavaScript does not",
    ],
    [
      "/(?:|a)*(\\w+)",
      "the repeat (its quantifier at position 6) repeats something that can match the empty string before it tries longer matches: Python then stops after one empty repetition, JavaScript goes on to the longer ones",
    ],
    [
      "/(?<=(?>a))(b)",
      "an atomic group at position 4 inside a look-behind has no JavaScript equivalent",
    ],
  ])("refuses %j, which Python runs but JavaScript cannot run alike", (pattern, reason) => {
    const [problem] = thrownProblems(() => compileRegexName(pattern, AT));
    expect(problem).toBe(
      `${AT}: regular expression ${JSON.stringify(pattern)} cannot be used here: ${reason}`,
    );
    expect(thrownProblems(() => nameFromKey(pattern, "ab", AT))).toEqual([problem]);
  });
});
