import { parse } from "@huggingface/jinja";
import { describe, expect, it, vi } from "vitest";
import { LavaError } from "../../../lambda/shared/errors";
import {
  baseContext,
  pyDateTime,
  renderDeep,
  renderEnabled,
  renderTemplate,
  TemplateError,
  templateUtils,
} from "../../../lambda/shared/templating";

// Pass-through spy on the parser, to see when templates are (re)parsed.
vi.mock("@huggingface/jinja", async (importOriginal) => {
  const mod = await importOriginal<typeof import("@huggingface/jinja")>();
  return { ...mod, parse: vi.fn(mod.parse) };
});
const parseSpy = vi.mocked(parse);

/** Saturday 2026-01-31 08:05:09.123 UTC. */
const FIXED = new Date(Date.UTC(2026, 0, 31, 8, 5, 9, 123));

function ctx(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...baseContext({ realm: "prod", globals: { g: "G" }, start: FIXED }),
    key: "landing/sales/2026/orders.csv",
    ...extra,
  };
}

const render = (source: string, extra: Record<string, unknown> = {}): string =>
  renderTemplate(source, ctx(extra), "test");

describe("renderTemplate keeps lava idioms working", () => {
  it.each([
    ["{{ ustart.strftime('%Y%m%d') }}", "20260131"],
    ["{{ ustart.strftime('%Y-%m-%d %H:%M:%S') }}", "2026-01-31 08:05:09"],
    ["{{ key.split('/')[-1] }}", "orders.csv"],
    ["{{ key.split('/')[1:3] | join('/') }}", "sales/2026"],
    ["{{ w[::-1] }}", "olleh"],
    ["{{ globals.x | default('d') }}", "d"],
    ["{{ globals.g | default('d') }}", "G"],
    ["{{ key | replace('/', '_') }}", "landing_sales_2026_orders.csv"],
    ["{{ key.replace('/', '.') }}", "landing.sales.2026.orders.csv"],
    ["{{ 'MiXeD' | lower }}", "mixed"],
    ["{{ key.split('/')[-1] | replace('.csv', '') | upper }}", "ORDERS"],
    ["{{ utils.basename(key) }}", "orders.csv"],
    ["{{ utils.dirname(key) }}", "landing/sales/2026"],
    ["{{ utils.splitext(utils.basename(key))[0] }}", "orders"],
    ["{{ realm }}-{{ job.job_id | default('none') }}", "prod-none"],
    ["{% if key.endswith('.csv') %}csv{% else %}other{% endif %}", "csv"],
    ["{% for p in key.split('/') %}{{ loop.index }}{% endfor %}", "1234"],
    ["{% for i in range(1, 4) %}{{ i }}{% endfor %}", "123"],
    ["{{ dict(a='x').a }}", "x"],
    ["{# a comment #}kept", "kept"],
  ])("renders %s as %j", (source, expected) => {
    expect(render(source, { w: "hello" })).toBe(expected);
  });

  it("does not HTML-escape anything", () => {
    expect(render("{{ v }}", { v: `<&>"'` })).toBe(`<&>"'`);
    expect(render("{{ v | upper }}", { v: "<a href='x'>&amp;" })).toBe("<A HREF='X'>&AMP;");
  });

  it("prints datetimes like Python's str(datetime), also through | string and ~", () => {
    expect(render("{{ ustart }}")).toBe("2026-01-31 08:05:09.123000+00:00");
    expect(render("{{ ustart | string }}")).toBe("2026-01-31 08:05:09.123000+00:00");
    expect(render("{{ 'at ' ~ ustart }}")).toBe("at 2026-01-31 08:05:09.123000+00:00");
    expect(render("{% set t = ustart %}{{ t.isoformat() }}")).toBe(
      "2026-01-31T08:05:09.123000+00:00",
    );
  });

  it("passes positional and keyword arguments to context functions", () => {
    const seen: unknown[][] = [];
    const fn = (...args: unknown[]) => {
      seen.push(args);
      return "ok";
    };
    expect(render("{{ fn('a', 2, [1, 'b'], {'k': 'v'}, x=none) }}", { fn })).toBe("ok");
    expect(seen).toEqual([["a", 2, [1, "b"], { k: "v" }, { x: null }]]);
    expect(render("{{ ustart.isoformat(sep=' ') }}")).toBe("2026-01-31 08:05:09.123000+00:00");
  });

  it("hands a datetime passed to a context function back as the same object", () => {
    const ustart = ctx().ustart;
    let got: unknown;
    const f = (d: unknown): void => {
      got = d;
    };
    renderTemplate("{{ f(ustart) }}", { ustart, f }, "t");
    expect(got).toBe(ustart);
  });

  it("treats a Date in the context as a UTC datetime", () => {
    expect(render("{{ d.strftime('%Y-%m-%d %H:%M') }}", { d: FIXED })).toBe("2026-01-31 08:05");
  });

  it("follows Jinja2's whitespace defaults (no trim_blocks / lstrip_blocks)", () => {
    expect(render("{% if true %}\n  x\n{% endif %}\n")).toBe("\n  x\n");
    expect(render("a\n  {%- if true %}b{% endif -%}\n c")).toBe("abc");
  });

  it("prints booleans lower-case (engine limitation; renderEnabled accepts it)", () => {
    expect(render("{{ key.startswith('landing') }}")).toBe("true");
    expect(render("{{ 1 == 2 }}")).toBe("false");
  });

  it("returns strings without template markup unchanged, without parsing", () => {
    const before = parseSpy.mock.calls.length;
    for (const s of ["plain text", "100% {not} a template }}", "", "{ {x} }"]) {
      expect(render(s)).toBe(s);
    }
    expect(parseSpy.mock.calls.length).toBe(before);
  });
});

describe("renderTemplate errors", () => {
  const secret = { password: "s3cr3t-value" };

  function errorOf(source: string): TemplateError {
    try {
      renderTemplate(source, { ...ctx(), secret }, "job sales/load: parameters.key");
    } catch (err) {
      return err as TemplateError;
    }
    throw new Error("expected a TemplateError");
  }

  it("wraps a syntax error in a TemplateError naming what was rendered", () => {
    const err = errorOf("{{ secret.password( }}");
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toBeInstanceOf(LavaError);
    expect(err.name).toBe("TemplateError");
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      "job sales/load: parameters.key: template error: Unexpected token: CloseExpression",
    );
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it("wraps a render error without putting context values in the message", () => {
    const err = errorOf("{{ secret.password | nosuchfilter }}");
    expect(err.message).toBe(
      "job sales/load: parameters.key: template error: Unknown StringValue filter: nosuchfilter",
    );
    expect(err.message).not.toContain("s3cr3t");
  });

  it("wraps errors thrown by context functions", () => {
    expect(errorOf("{{ ustart.strftime(secret) }}").message).toBe(
      "job sales/load: parameters.key: template error: strftime() argument must be a string",
    );
    expect(errorOf("{{ key.rsplit('/', 1) }}").message).toBe(
      "job sales/load: parameters.key: template error: Cannot call something that is not a function: got UndefinedValue",
    );
  });

  it("does not offer the engine's chat-template globals", () => {
    expect(render("{{ raise_exception is defined }}-{{ strftime_now is defined }}")).toBe(
      "false-false",
    );
  });
});

describe("renderTemplate cache", () => {
  it("parses a source once and gives the same result every time", () => {
    const source = `cache-${Math.random()} {{ key.split('/')[0] }}`;
    const before = parseSpy.mock.calls.length;
    const first = render(source);
    const second = render(source);
    expect(first).toBe(second);
    expect(first.endsWith(" landing")).toBe(true);
    expect(parseSpy.mock.calls.length).toBe(before + 1);
    // Different contexts with the cached parse still render their own values.
    expect(render(source, { key: "other/x" }).endsWith(" other")).toBe(true);
    expect(parseSpy.mock.calls.length).toBe(before + 1);
  });

  it("is bounded to 500 templates, dropping the least recently used", () => {
    const tag = Math.random();
    const oldest = `oldest-${tag} {{ 1 }}`;
    render(oldest);
    for (let i = 0; i < 500; i++) render(`filler-${tag}-${i} {{ 1 }}`);
    const before = parseSpy.mock.calls.length;
    render(`filler-${tag}-499 {{ 1 }}`); // still cached
    expect(parseSpy.mock.calls.length).toBe(before);
    render(oldest); // evicted: parsed again
    expect(parseSpy.mock.calls.length).toBe(before + 1);
  });
});

describe("renderDeep", () => {
  it("renders every nested string, keeps keys and non-strings", () => {
    const value = {
      "{{ key }}": "{{ realm }}",
      list: ["{{ globals.g }}", 1, null, { inner: "{{ ustart.strftime('%Y') }}-x" }],
      flag: true,
      n: 2.5,
      none: null,
    };
    expect(renderDeep(value, ctx(), "job j: parameters")).toEqual({
      "{{ key }}": "prod",
      list: ["G", 1, null, { inner: "2026-x" }],
      flag: true,
      n: 2.5,
      none: null,
    });
  });

  it("does not modify its input", () => {
    const value = { a: ["{{ realm }}"] };
    renderDeep(value, ctx(), "v");
    expect(value).toEqual({ a: ["{{ realm }}"] });
  });

  it("renders a bare string and leaves numbers, booleans and undefined alone", () => {
    expect(renderDeep("{{ realm }}", ctx(), "v")).toBe("prod");
    expect(renderDeep(3, ctx(), "v")).toBe(3);
    expect(renderDeep(false, ctx(), "v")).toBe(false);
    expect(renderDeep(undefined, ctx(), "v")).toBeUndefined();
  });

  it("names the path of a failing string", () => {
    expect(() =>
      renderDeep({ files: ["ok", { name: "{{ bad( }}" }] }, ctx(), "job x: parameters"),
    ).toThrow("job x: parameters.files[1].name: template error: Unexpected token: CloseExpression");
  });
});

describe("renderEnabled", () => {
  it.each([
    [true, true],
    [false, false],
    ["true", true],
    [" True ", true],
    ["TRUE\n", true],
    ["false", false],
    ["yes", false],
    ["1", false],
    ["", false],
    ["{{ realm == 'prod' }}", true],
    ["{{ realm == 'dev' }}", false],
    ["{{ 'True' if key.endswith('.csv') else 'False' }}", true],
    ["{{ globals.enabled | default('true') }}", true],
  ])("reads %j as %s", (value, expected) => {
    expect(renderEnabled(value, ctx(), "job j: enabled")).toBe(expected);
  });

  it("throws a TemplateError naming the field", () => {
    expect(() => renderEnabled("{% if %}", ctx(), "job j: enabled")).toThrow(
      /^job j: enabled: template error: /,
    );
  });
});

describe("pyDateTime strftime (utc)", () => {
  const t = pyDateTime(FIXED, "utc");

  it.each([
    ["%a", "Sat"],
    ["%A", "Saturday"],
    ["%b", "Jan"],
    ["%B", "January"],
    ["%c", "Sat Jan 31 08:05:09 2026"],
    ["%d", "31"],
    ["%f", "123000"],
    ["%H", "08"],
    ["%I", "08"],
    ["%j", "031"],
    ["%m", "01"],
    ["%M", "05"],
    ["%p", "AM"],
    ["%S", "09"],
    ["%U", "04"],
    ["%w", "6"],
    ["%W", "04"],
    ["%x", "01/31/26"],
    ["%X", "08:05:09"],
    ["%y", "26"],
    ["%Y", "2026"],
    ["%z", "+0000"],
    ["%Z", "UTC"],
    ["%%", "%"],
    ["%-d", "31"],
    ["%F %T", "2026-01-31 08:05:09"],
    ["%D %R", "01/31/26 08:05"],
    ["%e|%k|%l|%P|%h|%C|%u", "31| 8| 8|am|Jan|20|6"],
    ["%G-W%V", "2026-W05"],
    ["%Q %-Q %", "%Q %-Q %"],
    ["%Y%m%d_%H%M%S.csv", "20260131_080509.csv"],
  ])("formats %s as %j", (format, expected) => {
    expect(t.strftime(format)).toBe(expected);
  });

  it("pads and unpads single-digit fields", () => {
    const d = pyDateTime(new Date(Date.UTC(2026, 2, 5, 4, 3, 2)), "utc");
    expect(d.strftime("%d %m %H %I %M %S %j")).toBe("05 03 04 04 03 02 064");
    expect(d.strftime("%-d %-m %-H %-I %-M %-S %-j")).toBe("5 3 4 4 3 2 64");
    expect(d.strftime("%c")).toBe("Thu Mar  5 04:03:02 2026");
    expect(d.strftime("%f")).toBe("000000");
  });

  it("uses a 12-hour clock for %I and %p", () => {
    const at = (h: number) =>
      pyDateTime(new Date(Date.UTC(2026, 0, 1, h)), "utc").strftime("%I %p");
    expect([at(0), at(11), at(12), at(15), at(23)]).toEqual([
      "12 AM",
      "11 AM",
      "12 PM",
      "03 PM",
      "11 PM",
    ]);
  });

  it("numbers weeks across the year boundary like Python", () => {
    // 2027-01-01 is a Friday: ISO week 53 of 2026, %U/%W week 0.
    const d = pyDateTime(new Date(Date.UTC(2027, 0, 1)), "utc");
    expect(d.strftime("%G-%V %u %U %W %j")).toBe("2026-53 5 00 00 001");
    // 2024-12-30 is a Monday in ISO week 1 of 2025.
    const e = pyDateTime(new Date(Date.UTC(2024, 11, 30)), "utc");
    expect(e.strftime("%G-%V %U %W %j")).toBe("2025-01 52 53 365");
  });

  it("is reachable from a template with its arguments", () => {
    expect(render("{{ ustart.strftime('%A %-d %B %Y, %I:%M %p') }}")).toBe(
      "Saturday 31 January 2026, 08:05 AM",
    );
  });
});

describe("pyDateTime attributes and methods", () => {
  it("exposes Python's attributes (utc)", () => {
    const t = pyDateTime(FIXED, "utc");
    expect([t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond]).toEqual([
      2026, 1, 31, 8, 5, 9, 123000,
    ]);
    expect(t.weekday()).toBe(5);
    expect(t.isoweekday()).toBe(6);
    expect(t.timestamp()).toBe(1769846709.123);
  });

  it("formats isoformat with microseconds only when nonzero", () => {
    expect(pyDateTime(FIXED, "utc").isoformat()).toBe("2026-01-31T08:05:09.123000+00:00");
    expect(pyDateTime(new Date(Date.UTC(2026, 0, 31, 8, 5, 9)), "utc").isoformat()).toBe(
      "2026-01-31T08:05:09+00:00",
    );
    expect(pyDateTime(FIXED, "utc").isoformat(" ")).toBe("2026-01-31 08:05:09.123000+00:00");
    expect(String(pyDateTime(FIXED, "utc"))).toBe("2026-01-31 08:05:09.123000+00:00");
  });

  it("follows the process time zone for local (compared with the Date's own getters)", () => {
    const d = new Date(Date.UTC(2026, 6, 4, 23, 59, 58, 7));
    const t = pyDateTime(d, "local");
    const p2 = (n: number) => String(n).padStart(2, "0");
    const off = -d.getTimezoneOffset();
    const offText = `${off < 0 ? "-" : "+"}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
    const date = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
    const time = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    expect([t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond]).toEqual([
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
      7000,
    ]);
    expect(t.strftime("%Y-%m-%d %H:%M:%S")).toBe(`${date} ${time}`);
    expect(t.strftime("%z")).toBe(offText.replace(":", ""));
    expect(t.isoformat()).toBe(`${date}T${time}.007000${offText}`);
    expect(t.weekday()).toBe((d.getDay() + 6) % 7);
    expect(t.strftime("%w")).toBe(String(d.getDay()));
    expect(t.strftime("%Z")).toMatch(/^([A-Z]{2,5}|[+-]\d{2}(\d{2})?)$/);
    expect(t.timestamp()).toBe(d.getTime() / 1000);
  });

  it("is not affected by later changes to the Date", () => {
    const d = new Date(FIXED.getTime());
    const t = pyDateTime(d, "utc");
    d.setUTCFullYear(2000);
    expect(t.strftime("%Y")).toBe("2026");
    expect(t.timestamp()).toBe(1769846709.123);
  });
});

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

describe("baseContext", () => {
  it("fills realm, job, globals, vars, start, ustart and utils", () => {
    const c = baseContext({ realm: "dev", start: FIXED });
    expect(c.realm).toBe("dev");
    expect(c.job).toEqual({});
    expect(c.globals).toEqual({});
    expect(c.vars).toEqual({});
    expect(String(c.ustart)).toBe("2026-01-31 08:05:09.123000+00:00");
    expect((c.start as { timestamp(): number }).timestamp()).toBe(1769846709.123);
    expect(Object.keys(c.utils as object)).toContain("basename");
  });

  it("passes the given maps through", () => {
    const c = baseContext({
      realm: "r",
      job: { job_id: "sales/load" },
      globals: { a: 1 },
      vars: { v: "x" },
      start: FIXED,
    });
    expect(
      renderTemplate("{{ job.job_id }} {{ globals.a }} {{ vars.v }} {{ realm }}", c, "t"),
    ).toBe("sales/load 1 x r");
  });
});
