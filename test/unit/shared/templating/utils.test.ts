import { describe, expect, it } from "vitest";
import { templateUtils } from "../../../../lambda/shared/templating/utils";
import { render } from "../../../support/template-context";

describe("templateUtils", () => {
  const u = templateUtils() as Record<string, (...args: unknown[]) => unknown>;

  it("offers only pure helpers", () => {
    expect(Object.keys(u).sort()).toEqual([
      "basename",
      "dirname",
      "now",
      "splitext",
      "urlquote",
      "urlunquote",
      "utcnow",
      "uuid",
    ]);
  });

  it.each([
    ["a/b/c.csv", "c.csv", "a/b"],
    ["c.csv", "c.csv", ""],
    ["a/b/", "", "a/b"],
    ["/c", "c", "/"],
    ["a//b", "b", "a"],
    ["//a", "a", "//"],
    ["", "", ""],
  ])("splits %j into basename %j and dirname %j like os.path", (path, base, dir) => {
    expect(u.basename?.(path)).toBe(base);
    expect(u.dirname?.(path)).toBe(dir);
  });

  it.each([
    ["a/b/c.tar.gz", ["a/b/c.tar", ".gz"]],
    ["c.csv", ["c", ".csv"]],
    [".bashrc", [".bashrc", ""]],
    ["..x.csv", ["..x", ".csv"]],
    ["a.b/c", ["a.b/c", ""]],
    ["noext", ["noext", ""]],
    ["trailing.", ["trailing", "."]],
  ])("splitext(%j) is %j", (path, expected) => {
    expect(u.splitext?.(path)).toEqual(expected);
  });

  it("quotes and unquotes URLs like urllib.parse", () => {
    expect(u.urlquote?.("a b/c&d=é~_.-")).toBe("a%20b/c%26d%3D%C3%A9~_.-");
    expect(u.urlquote?.("a/b c", "")).toBe("a%2Fb%20c");
    expect(u.urlunquote?.("a%20b%2Fc%C3%A9+x%zz%")).toBe("a b/cé+x%zz%");
    expect(u.urlunquote?.("bad%FF")).toBe("bad\uFFFD");
    expect(render("{{ utils.urlquote(key ~ ' x') }}")).toBe("landing/sales/2026/orders.csv%20x");
  });

  it("makes random UUIDs and current datetimes", () => {
    const a = u.uuid?.();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(u.uuid?.()).not.toBe(a);
    const before = Date.now() / 1000;
    const now = render("{{ utils.utcnow().timestamp() }}");
    expect(Number(now)).toBeGreaterThanOrEqual(before);
    expect(render("{{ utils.utcnow().isoformat() }}")).toMatch(/\+00:00$/);
    expect(render("{{ utils.now().year }}")).toBe(String(new Date().getFullYear()));
  });

  it("refuses non-string paths without echoing them", () => {
    expect(() => render("{{ utils.basename(123456789) }}")).toThrow(
      "test: template error: basename() argument must be a string",
    );
  });
});
