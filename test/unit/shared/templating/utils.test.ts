import { describe, expect, it } from "vitest";
import { render } from "../../../support/template-context";

describe("utils", () => {
  it("offers lava's utilities and the project's earlier extras, nothing that reads files or env", () => {
    expect(render("{{ utils.keys() | list | sort | join(' ') }}")).toBe(
      "basename date datetime dateutil dirname now parsedate path re s3bucket s3key splitext time timedelta urlquote urlunquote utcnow uuid",
    );
    expect(() => render("{{ utils.path.exists('/etc') }}")).toThrow(/UndefinedError/);
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
    expect(render("{{ utils.path.basename(p) }}|{{ utils.path.dirname(p) }}", { p: path })).toBe(
      `${base}|${dir}`,
    );
    expect(render("{{ utils.basename(p) }}|{{ utils.dirname(p) }}", { p: path })).toBe(
      `${base}|${dir}`,
    );
  });

  it.each([
    ["a/b/c.tar.gz", "('a/b/c.tar', '.gz')"],
    ["c.csv", "('c', '.csv')"],
    [".bashrc", "('.bashrc', '')"],
    ["..x.csv", "('..x', '.csv')"],
    ["a.b/c", "('a.b/c', '')"],
    ["trailing.", "('trailing', '.')"],
  ])("splitext(%j) is %s", (path, expected) => {
    expect(render("{{ utils.path.splitext(p) }}", { p: path })).toBe(expected);
  });

  it("quotes and unquotes URLs like urllib.parse", () => {
    expect(render("{{ utils.urlquote('a b/c&d=é~_.-') }}")).toBe("a%20b/c%26d%3D%C3%A9~_.-");
    expect(render("{{ utils.urlquote('a/b c', '') }}")).toBe("a%2Fb%20c");
    expect(render("{{ utils.urlunquote('a%20b%2Fc%C3%A9+x%zz%') }}")).toBe("a b/cé+x%zz%");
  });

  it("splits S3 names as lava's s3_split does", () => {
    expect(render("{{ utils.s3bucket(realm.s3_temp) }} {{ utils.s3key(realm.s3_temp) }}")).toBe(
      "prod-temp lava/tmp",
    );
    expect(() => render("{{ utils.s3key('s3://') }}")).toThrow(
      /ValueError: Invalid S3 object name/,
    );
  });

  it("makes random UUIDs and current datetimes", () => {
    const a = render("{{ utils.uuid() }}");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(render("{{ utils.uuid() }}")).not.toBe(a);
    const before = Math.floor(Date.now() / 1000);
    expect(Number(render("{{ utils.datetime.now().timestamp() }}"))).toBeGreaterThanOrEqual(before);
    expect(render("{{ utils.utcnow().isoformat() }}")).toMatch(/\+00:00$/);
    expect(render("{{ utils.now().year }}")).toBe(String(new Date().getFullYear()));
  });

  it("refuses non-string paths without echoing them", () => {
    expect(() => render("{{ utils.path.basename(123456789) }}")).toThrow(
      "test: template error: TypeError: basename() argument must be str, not int",
    );
  });
});
