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
    ["a/b/.hidden", "a/b/"],
    ["a/b/", "a/b/"],
    ["", ""],
  ])("turns %j into %j", (key, stripped) => {
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

  it("accepts JavaScript named groups", () => {
    expect(nameFromKey("/^x\\/(?<t>[^/]+)", "x/y.csv", AT)).toBe("y");
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

  it("compiles with the u flag, so . matches a whole astral character", () => {
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

  it("refuses a regex with two capture groups", () => {
    expect(thrownProblems(() => nameFromKey("/^([a-z]+)\\/([a-z]+)", "sales/x.csv", AT))).toEqual([
      `${AT}: regular expression "/^([a-z]+)\\\\/([a-z]+)" has 2 capture groups; it needs exactly one (write (?:…) for the others)`,
    ]);
  });

  it("counts named groups too", () => {
    expect(thrownProblems(() => nameFromKey("/(?P<a>x)(?P<b>y)", "xy", AT))).toEqual([
      `${AT}: regular expression "/(?P<a>x)(?P<b>y)" has 2 capture groups; it needs exactly one (write (?:…) for the others)`,
    ]);
  });

  it.each([
    ["/([a-z]+", "Unterminated group"],
    ["/[a-z", "Unterminated character class"],
    ["/\\-(x)", "Invalid escape"],
    ["/(?P<a>x)(?P<a>y)", "Duplicate capture group name"],
    ["/(?i)(x)", "Invalid group"],
  ])("refuses the invalid regex %j", (pattern, reason) => {
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
  it.each(["/^drops\\/([^/]+)", "/(?P<table>[a-z]+)_(?P=table)", "/(?<t>\\w+)", "/^in\\/(.)$"])(
    "compiles %j, as nameFromKey does",
    (pattern) => {
      expect(compileRegexName(pattern, AT)).toBeInstanceOf(RegExp);
    },
  );

  it.each([
    ["/^drops\\/([^/]+", "Unterminated group"],
    ["/([a-z]+", "Unterminated group"],
    ["/(x)[", "Unterminated character class"],
    ["/(x)\\", "\\ at end of pattern"],
  ])("refuses %j, which does not compile: %s", (pattern, reason) => {
    const [problem] = thrownProblems(() => compileRegexName(pattern, AT));
    expect(problem).toBe(`${AT}: invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    // What check refuses, a run refuses the same way.
    expect(thrownProblems(() => nameFromKey(pattern, "drops/x.csv", AT))).toEqual([problem]);
  });

  it("refuses no group or two groups, as nameFromKey does", () => {
    expect(thrownProblems(() => compileRegexName("/^x", AT))).toEqual([
      `${AT}: regular expression "/^x" has no capture group; put ( ) around the part of the key that is the name`,
    ]);
    expect(thrownProblems(() => compileRegexName("/(a)(b)", AT))).toEqual([
      `${AT}: regular expression "/(a)(b)" has 2 capture groups; it needs exactly one (write (?:…) for the others)`,
    ]);
  });
});
