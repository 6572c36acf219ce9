import { describe, expect, it } from "vitest";
import { baseContext } from "../../../../lambda/shared/templating/context";
import { renderTemplate } from "../../../../lambda/shared/templating/render";
import { FIXED } from "../../../support/template-context";

const show = (source: string, c: Record<string, unknown>) => renderTemplate(source, c, "t");

describe("baseContext", () => {
  it("gives lava's variables: realm dict, augmented job, globals, vars, start, ustart, utils", () => {
    // Prepare
    const c = baseContext({
      realm: {
        name: "dev",
        top: { s3_temp: "s3://t/tmp", s3_payloads: "s3://p/pay", vpc: { vpc_id: "v" } },
      },
      job: { job_id: "sales/load", parameters: { a: 1 } },
      runId: "run-1",
      globals: { g: [1, "x"] },
      vars: { v: "x" },
      start: FIXED,
      timeZone: "Australia/Sydney",
    });
    // Act / Assess
    expect(show("{{ realm }}", c)).toBe(
      "{'realm': 'dev', 's3_temp': 's3://t/tmp', 's3_payloads': 's3://p/pay'}",
    );
    expect(
      show(
        "{{ job.job_id }} {{ job.run_id }} {{ job.realm }} {{ job.parameters }} {{ job.globals }}",
        c,
      ),
    ).toBe("sales/load run-1 dev {'a': 1} {'g': [1, 'x']}");
    expect(show("{{ job.ts_start == start }} {{ job.ts_ustart == ustart }} {{ vars.v }}", c)).toBe(
      "True True x",
    );
    expect(show("{{ start }} {{ start.strftime('%Z') }} {{ ustart }}", c)).toBe(
      "2026-01-31 19:05:09+11:00 AEDT 2026-01-31 08:05:09+00:00",
    );
    expect(show("{{ utils.keys() | list | sort | join(',') }}", c)).toContain("datetime,dateutil");
  });

  it("drops the start's fraction of a second, as lava's now_tz() does", () => {
    const c = baseContext({ realm: "r", start: FIXED, timeZone: "UTC" });
    expect(show("{{ start.microsecond }} {{ start.timestamp() }}", c)).toBe("0 1769846709.0");
  });

  it("accepts a bare realm name and has no state", () => {
    const c = baseContext({ realm: "r", start: FIXED });
    expect(show("{{ realm.realm }} {{ vars }} {{ globals }}", c)).toBe("r {} {}");
    expect(() => show("{{ state.x }}", c)).toThrow(
      "t: template error: UndefinedError: 'state' is undefined",
    );
  });
});
