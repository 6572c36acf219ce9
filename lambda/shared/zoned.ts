/**
 * Wall-clock times in an IANA time zone, with only `Intl` (docs/schedules.md §4):
 * the offset at an instant, the instants a wall-clock minute names (none in a
 * spring-forward gap, two in a fall-back overlap), and the local calendar.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** A wall-clock time: month 1-12. */
export interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The wall-clock time at an instant in `timeZone`. */
export function wallAt(timeZone: string, ms: number): Wall {
  const p: Record<string, number> = {};
  for (const { type, value } of format(timeZone).formatToParts(new Date(ms)))
    if (type !== "literal") p[type] = Number(value);
  return {
    year: p.year ?? 0,
    month: p.month ?? 1,
    day: p.day ?? 1,
    hour: p.hour ?? 0,
    minute: p.minute ?? 0,
    second: p.second ?? 0,
  };
}

/** The wall-clock time read as if it were UTC, in ms (seconds precision). */
const asUtc = (w: Wall) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** `timeZone`'s offset from UTC at an instant, in ms (Sydney in January: +11h). */
export function offsetAt(timeZone: string, ms: number): number {
  if (timeZone === "UTC") return 0;
  const whole = Math.floor(ms / 1000) * 1000;
  return asUtc(wallAt(timeZone, whole)) - whole;
}

/**
 * The instants showing wall-clock time `w` in `timeZone`, earliest first: one
 * usually, none in a spring-forward gap, two in a fall-back overlap. Offsets
 * are sampled 18 hours either side, wider than any zone's offset.
 */
export function instantsOf(timeZone: string, w: Wall): number[] {
  const wall = asUtc(w);
  const offsets = new Set([
    offsetAt(timeZone, wall - 18 * HOUR),
    offsetAt(timeZone, wall + 18 * HOUR),
  ]);
  return [...offsets]
    .map((o) => wall - o)
    .filter((t) => offsetAt(timeZone, t) === wall - t)
    .sort((a, b) => a - b);
}

/**
 * One instant for a wall-clock time, as a date-time without an offset names it:
 * the earlier in an overlap; in a gap, the time the clock shows after jumping
 * (02:30 on a spring-forward night from 02:00 to 03:00 is 03:30).
 */
export function instantOf(timeZone: string, w: Wall): number {
  const found = instantsOf(timeZone, w)[0];
  if (found !== undefined) return found;
  const wall = asUtc(w);
  return wall - offsetAt(timeZone, wall - 18 * HOUR);
}

/** `2026-12-03 00:00` in `timeZone`. */
export function formatWall(timeZone: string, ms: number): string {
  const w = wallAt(timeZone, ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}`;
}

/**
 * An IANA time zone name `Intl` knows, as Scheduler's `ScheduleExpressionTimezone`
 * takes it: `Australia/Sydney`, `UTC`; not an offset, not in the wrong case.
 * `undefined` when fine, else what is wrong.
 */
export function timeZoneProblem(name: string): string | undefined {
  const expected = "expected an IANA time zone like Australia/Sydney or UTC";
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return expected;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return expected;
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase())
    return `expected ${resolved} (time zone names are case-sensitive)`;
  return undefined;
}
