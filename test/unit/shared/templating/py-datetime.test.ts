import { describe, expect, it } from "vitest";
import { pyDateTime } from "../../../../lambda/shared/templating/py-datetime";
import { FIXED } from "../../../support/template-context";

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
