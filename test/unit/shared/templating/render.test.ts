import { describe, expect, it, vi } from "vitest";
import { LavaError } from "../../../../lambda/shared/errors";
import { PyError } from "../../../../lambda/shared/templating/jinja/errors";
import { parseTemplate } from "../../../../lambda/shared/templating/jinja/parser";
import {
  renderDeep,
  renderEnabled,
  renderTemplate,
  TemplateError,
} from "../../../../lambda/shared/templating/render";
import { ctx, FIXED, render } from "../../../support/template-context";

// Pass-through spy on the parser, to see when templates are (re)parsed.
vi.mock("../../../../lambda/shared/templating/jinja/parser", async (importOriginal) => {
  const mod =
    await importOriginal<typeof import("../../../../lambda/shared/templating/jinja/parser")>();
  return { ...mod, parseTemplate: vi.fn(mod.parseTemplate) };
});
const parseSpy = vi.mocked(parseTemplate);

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
    ["{{ realm.realm }}-{{ job.job_id | default('none') }}", "prod-none"],
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
    expect(render("{{ t }}", { t: FIXED })).toBe("2026-01-31 08:05:09.123000+00:00");
    expect(render("{{ t | string }}", { t: FIXED })).toBe("2026-01-31 08:05:09.123000+00:00");
    expect(render("{{ 'at ' ~ ustart }}")).toBe("at 2026-01-31 08:05:09+00:00");
    expect(render("{% set t = ustart %}{{ t.isoformat(sep=' ') }}")).toBe(
      "2026-01-31 08:05:09+00:00",
    );
  });

  it("prints values as Python does: True, None, reprs of lists and dicts", () => {
    expect(render("{{ key.startswith('landing') }} {{ 1 == 2 }} {{ none }}")).toBe(
      "True False None",
    );
    expect(render("{{ v }}", { v: { a: [1, "b", null, true, 1.5] } })).toBe(
      "{'a': [1, 'b', None, True, 1.5]}",
    );
  });

  it("refuses JS functions in the context (templates call only Python-model values)", () => {
    expect(() => render("{{ f() }}", { f: () => 1 })).toThrow(
      "cannot use a function in a template",
    );
  });

  it("treats a Date in the context as a UTC datetime", () => {
    expect(render("{{ d.strftime('%Y-%m-%d %H:%M') }}", { d: FIXED })).toBe("2026-01-31 08:05");
  });

  it("follows Jinja2's whitespace defaults (no trim_blocks / lstrip_blocks)", () => {
    expect(render("{% if true %}\n  x\n{% endif %}\n")).toBe("\n  x\n");
    expect(render("a\n  {%- if true %}b{% endif -%}\n c")).toBe("abc");
  });

  it("returns strings without template markup as Jinja2 does, without parsing", () => {
    const before = parseSpy.mock.calls.length;
    for (const s of ["plain text", "100% {not} a template }}", "", "{ {x} }"]) {
      expect(render(s)).toBe(s);
    }
    expect(render("one trailing newline goes\n\n")).toBe("one trailing newline goes\n");
    expect(parseSpy.mock.calls.length).toBe(before);
  });

  it("fails on undefined names and attributes (StrictUndefined), except under is defined / default", () => {
    expect(() => render("{{ nope }}")).toThrow(
      "test: template error: UndefinedError: 'nope' is undefined",
    );
    expect(() => render("{{ globals.nope }}")).toThrow("'dict object' has no attribute 'nope'");
    expect(() => render("{% if nope %}{% endif %}")).toThrow(/UndefinedError/);
    expect(render("{{ nope is defined }} {{ nope | default('d') }}")).toBe("False d");
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
      "job sales/load: parameters.key: template error: TemplateSyntaxError: unexpected '}', expected ')' (line 1)",
    );
    expect(err.cause).toBeInstanceOf(PyError);
  });

  it("wraps a render error without putting context values in the message", () => {
    const err = errorOf("{{ secret.password | nosuchfilter }}");
    expect(err.message).toBe(
      "job sales/load: parameters.key: template error: TemplateAssertionError: No filter named 'nosuchfilter'.",
    );
    expect(err.message).not.toContain("s3cr3t");
  });

  it("wraps errors thrown by context functions", () => {
    expect(errorOf("{{ ustart.strftime(secret) }}").message).toBe(
      "job sales/load: parameters.key: template error: TypeError: strftime() argument 1 must be str, not dict",
    );
    expect(errorOf("{{ key.nosuch() }}").message).toBe(
      "job sales/load: parameters.key: template error: UndefinedError: 'str object' has no attribute 'nosuch'",
    );
  });

  it("does not offer chat-template globals", () => {
    expect(render("{{ raise_exception is defined }}-{{ strftime_now is defined }}")).toBe(
      "False-False",
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
      "{{ key }}": "{{ realm.realm }}",
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
    expect(renderDeep("{{ realm.realm }}", ctx(), "v")).toBe("prod");
    expect(renderDeep(3, ctx(), "v")).toBe(3);
    expect(renderDeep(false, ctx(), "v")).toBe(false);
    expect(renderDeep(undefined, ctx(), "v")).toBeUndefined();
  });

  it("names the path of a failing string", () => {
    expect(() =>
      renderDeep({ files: ["ok", { name: "{{ bad( }}" }] }, ctx(), "job x: parameters"),
    ).toThrow("job x: parameters.files[1].name: template error: TemplateSyntaxError: ");
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
    ["{{ realm.realm == 'prod' }}", true],
    ["{{ realm.realm == 'dev' }}", false],
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
