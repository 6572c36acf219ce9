/**
 * Calendar fields of a Python date/time, like C's `struct tm`: what
 * {@link strftime} formats.
 */

/** Broken-down time, as C's `struct tm` plus what Python adds. */
export interface TimeFields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Microseconds. */
  us: number;
  wday: number; // Sunday = 0
  yday: number; // 0-based
  /** Seconds east of UTC; undefined for naive times (`%z` and `%Z` print nothing). */
  offsetSeconds: number | undefined;
  zoneName: string | undefined;
}

/** `n` left-padded with `fill` to `width` characters. */
export const pad = (n: number, width: number, fill = "0"): string =>
  String(n).padStart(width, fill);

/** A UTC offset in seconds as `+hhmm[ss]`, or `+hh:mm[:ss]` with `colon`, as Python prints it. */
export function formatOffset(offsetSeconds: number, colon: boolean): string {
  const sign = offsetSeconds < 0 ? "-" : "+";
  const abs = Math.abs(offsetSeconds);
  const sep = colon ? ":" : "";
  const secs = abs % 60 ? `${sep}${pad(abs % 60, 2)}` : "";
  return `${sign}${pad(Math.floor(abs / 3600), 2)}${sep}${pad(Math.floor((abs % 3600) / 60), 2)}${secs}`;
}

/** Days since 1 January of `year` (0-based). */
export function dayOfYear(year: number, month: number, day: number): number {
  return (Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000;
}
