import { describe, expect, it } from "vitest";
import { FIXED, render } from "../../../support/template-context";

/** A UTC datetime for `date` (Dates in a context are aware UTC datetimes). */
const at = (date: Date) => ({
  strftime: (format: string) => render("{{ t.strftime(f) }}", { t: date, f: format }),
});

describe("datetime.strftime (glibc, C locale)", () => {
  const t = at(FIXED);

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
    const d = at(new Date(Date.UTC(2026, 2, 5, 4, 3, 2)));
    expect(d.strftime("%d %m %H %I %M %S %j")).toBe("05 03 04 04 03 02 064");
    expect(d.strftime("%-d %-m %-H %-I %-M %-S %-j")).toBe("5 3 4 4 3 2 64");
    expect(d.strftime("%c")).toBe("Thu Mar  5 04:03:02 2026");
    expect(d.strftime("%f")).toBe("000000");
  });

  it("uses a 12-hour clock for %I and %p", () => {
    const hour = (h: number) => at(new Date(Date.UTC(2026, 0, 1, h))).strftime("%I %p");
    expect([hour(0), hour(11), hour(12), hour(15), hour(23)]).toEqual([
      "12 AM",
      "11 AM",
      "12 PM",
      "03 PM",
      "11 PM",
    ]);
  });

  it("numbers weeks across the year boundary like Python", () => {
    // 2027-01-01 is a Friday: ISO week 53 of 2026, %U/%W week 0.
    const d = at(new Date(Date.UTC(2027, 0, 1)));
    expect(d.strftime("%G-%V %u %U %W %j")).toBe("2026-53 5 00 00 001");
    // 2024-12-30 is a Monday in ISO week 1 of 2025.
    const e = at(new Date(Date.UTC(2024, 11, 30)));
    expect(e.strftime("%G-%V %U %W %j")).toBe("2025-01 52 53 365");
  });

  it("prints a naive datetime's %z and %Z as nothing, an aware local one's as its zone", () => {
    expect(render("[{{ utils.datetime(2026, 1, 31).strftime('%z%Z') }}]")).toBe("[]");
    expect(render("{{ start.strftime('%z %Z') }}")).toBe("+0000 UTC");
  });

  it("is reachable from a template with its arguments", () => {
    expect(render("{{ ustart.strftime('%A %-d %B %Y, %I:%M %p') }}")).toBe(
      "Saturday 31 January 2026, 08:05 AM",
    );
  });
});
