/**
 * A Date broken down into calendar fields in a time zone, like C's `struct tm`
 * from `gmtime`/`localtime`: what {@link strftime} formats and what
 * `pyDateTime` exposes as attributes.
 */

/** Broken-down time, as C's `struct tm` plus what Python adds. */
export interface TimeFields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  wday: number; // Sunday = 0
  yday: number; // 0-based
  offsetMinutes: number; // east of UTC
  zoneName: string;
}

/** `n` left-padded with `fill` to `width` characters. */
export const pad = (n: number, width: number, fill = "0"): string =>
  String(n).padStart(width, fill);

/** A UTC offset as `+hhmm`, or `+hh:mm` with `colon`. */
export function formatOffset(offsetMinutes: number, colon: boolean): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ":" : ""}${pad(abs % 60, 2)}`;
}

/** Days since 1 January of `year` (0-based). */
export function dayOfYear(year: number, month: number, day: number): number {
  return (Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000;
}

function localZoneName(date: Date, offsetMinutes: number): string {
  const name =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(date)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  // Named zones print their abbreviation (EST, UTC); others print an offset
  // like glibc's numeric abbreviations ("+10", "+0530").
  if (/^[A-Z]{2,5}$/.test(name) && name !== "GMT") return name;
  if (offsetMinutes === 0) return name === "GMT" ? "GMT" : "UTC";
  const offset = formatOffset(offsetMinutes, false);
  return offsetMinutes % 60 === 0 ? offset.slice(0, 3) : offset;
}

/** The fields of `date` in the process's local time zone (`TZ`) or in UTC. */
export function timeFields(date: Date, zone: "local" | "utc"): TimeFields {
  if (zone === "utc") {
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    const day = date.getUTCDate();
    return {
      year,
      month,
      day,
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      ms: date.getUTCMilliseconds(),
      wday: date.getUTCDay(),
      yday: dayOfYear(year, month, day),
      offsetMinutes: 0,
      zoneName: "UTC",
    };
  }
  const year = date.getFullYear();
  const month = date.getMonth() + 1;
  const day = date.getDate();
  const offsetMinutes = -date.getTimezoneOffset();
  return {
    year,
    month,
    day,
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    ms: date.getMilliseconds(),
    wday: date.getDay(),
    yday: dayOfYear(year, month, day),
    offsetMinutes,
    zoneName: localZoneName(date, offsetMinutes),
  };
}
