import { describe, expect, it } from "vitest";
import { compileGlob, fnmatchAny, fnmatchcase } from "../../../lambda/shared/fnmatch";

// Expected values checked against CPython's fnmatch.fnmatchcase.
describe("fnmatchcase", () => {
  it.each([
    ["a/b/c.csv", "*.csv"],
    ["a/b/c.csv", "a/*"],
    ["a/b/c.csv", "*"],
    ["", "*"],
    ["ab", "a**b"],
    ["a\nb", "a*b"],
    ["a\nb", "a?b"],
    ["x.csv", "?.csv"],
    ["a/.csv", "a?.csv"],
    ["😀", "?"],
    ["b.csv", "[abc].csv"],
    ["d.csv", "[!abc].csv"],
    ["m", "[a-z]"],
    ["é", "[à-ü]"],
    ["b", "[a-c-e]"],
    ["-", "[a-c-e]"],
    ["e", "[a-c-e]"],
    ["-", "[a-]"],
    ["-", "[-a]"],
    ["]", "[]]"],
    ["x", "[!]]"],
    ["^", "[\\^]"],
    ["\\", "[\\]"],
    ["|", "[|]"],
    ["a", "[!z-a]"],
    [".", "[!z-a]"],
    ["[", "["],
    ["[ab", "[ab"],
    ["[]", "[]"],
    ["[!]", "[!]"],
    ["a+b(1).csv", "a+b(1).csv"],
    ["a{1}$x", "a{1}$x"],
    ["ObjectCreated:Put", "ObjectCreated:*"],
  ])("matches %j against %j", (name, pattern) => {
    expect(fnmatchcase(name, pattern)).toBe(true);
  });

  it.each([
    ["xy.csv", "?.csv"],
    ["d.csv", "[abc].csv"],
    ["b.csv", "[!abc].csv"],
    ["M", "[a-z]"],
    ["d", "[a-c-e]"],
    ["]", "[!]]"],
    ["a", "[z-a]"],
    ["a", "[]"],
    ["!", "[!]"],
    ["a.csv", "A.CSV"],
    ["axb", "a.b"],
    ["a/b/c.csv", "a/*.txt"],
    ["a/b/c.csv.gz", "*.csv"],
    ["xa/b", "a/*"],
    ["ObjectRemoved:Delete", "ObjectCreated:*"],
  ])("does not match %j against %j", (name, pattern) => {
    expect(fnmatchcase(name, pattern)).toBe(false);
  });

  it("compiles a pattern once and reuses it", () => {
    expect(compileGlob("reports/*.csv")).toBe(compileGlob("reports/*.csv"));
  });

  it("keeps working past the cache limit", () => {
    for (let i = 0; i < 300; i++) expect(fnmatchcase(`f${i}.csv`, `f${i}.*`)).toBe(true);
    expect(fnmatchcase("f0.csv", "f0.*")).toBe(true);
  });
});

describe("fnmatchAny", () => {
  it("accepts one glob", () => {
    expect(fnmatchAny("a.csv", "*.csv")).toBe(true);
  });

  it("matches when any glob of a list matches", () => {
    expect(fnmatchAny("a.tsv", ["*.csv", "*.tsv"])).toBe(true);
  });

  it("does not match when no glob of a list matches", () => {
    expect(fnmatchAny("a.json", ["*.csv", "*.tsv"])).toBe(false);
  });
});
