import { describe, expect, it } from "vitest";
import { baseContext } from "../../../../lambda/shared/templating/context";
import { renderTemplate } from "../../../../lambda/shared/templating/render";
import { FIXED } from "../../../support/template-context";

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
