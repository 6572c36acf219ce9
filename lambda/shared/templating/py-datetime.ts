/** Python-`datetime`-like views of Dates for templates. */
import { strftime } from "./strftime";
import { formatOffset, pad, timeFields } from "./time-fields";

/**
 * A Python-`datetime`-like view of a Date for templates, in the process's
 * local time zone or in UTC. Aware: `isoformat` and `%z` carry the offset.
 */
export interface PyDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  /** Python `strftime` in the C locale (see {@link pyDateTime}). */
  strftime(format: string): string;
  /** `2026-01-31T08:05:09.123000+00:00`; fraction only when nonzero. */
  isoformat(sep?: string): string;
  /** Seconds since the epoch. */
  timestamp(): number;
  /** Monday = 0 … Sunday = 6. */
  weekday(): number;
  /** Monday = 1 … Sunday = 7. */
  isoweekday(): number;
  /** `isoformat(" ")`, like Python's `str(datetime)`. */
  toString(): string;
}

const PY_DATETIME = Symbol("pyDateTime");

/** Whether `value` was made by {@link pyDateTime}. */
export function isPyDateTime(value: object): value is PyDateTime {
  return (value as { [PY_DATETIME]?: unknown })[PY_DATETIME] === true;
}

/**
 * A Python-`datetime`-like object for templates: `strftime(fmt)`,
 * `isoformat(sep = "T")`, `timestamp()`, `weekday()`, `isoweekday()`, the
 * attributes `year` … `microsecond`, and `toString()` = `isoformat(" ")`, so
 * `{{ ustart }}` prints like Python's `str(datetime)`.
 *
 * `strftime` follows Python on glibc in the C locale: `%a %A %b %B %c %d %f
 * %H %I %j %m %M %p %S %U %w %W %x %X %y %Y %z %Z %%`, the glibc extras
 * `%C %D %e %F %G %h %k %l %n %P %r %R %t %T %u %V`, and `%-d`-style unpadded
 * numbers; unknown directives are left as they are. `%Z` is `UTC` for "utc";
 * for "local" the zone's abbreviation, or its offset (`+10`) when it has none.
 *
 * @param zone "local": the process time zone (`TZ`); "utc": UTC.
 */
export function pyDateTime(date: Date, zone: "local" | "utc"): PyDateTime {
  const when = new Date(date.getTime());
  const f = timeFields(when, zone);
  const isoformat = (sep: unknown = "T"): string => {
    // From a template, `isoformat(sep=' ')` arrives as one keyword-arguments object.
    const given = typeof sep === "string" ? sep : (sep as { sep?: unknown } | null)?.sep;
    const s = typeof given === "string" ? given : "T";
    const frac = f.ms === 0 ? "" : `.${pad(f.ms * 1000, 6)}`;
    return `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}${s}${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}${frac}${formatOffset(f.offsetMinutes, true)}`;
  };
  const weekday = (): number => (f.wday + 6) % 7;
  const py: PyDateTime = {
    year: f.year,
    month: f.month,
    day: f.day,
    hour: f.hour,
    minute: f.minute,
    second: f.second,
    microsecond: f.ms * 1000,
    strftime: (format: unknown): string => {
      if (typeof format !== "string") throw new TypeError("strftime() argument must be a string");
      return strftime(f, format);
    },
    isoformat,
    timestamp: (): number => when.getTime() / 1000,
    weekday,
    isoweekday: (): number => weekday() + 1,
    toString: (): string => isoformat(" "),
  };
  Object.defineProperty(py, PY_DATETIME, { value: true, enumerable: false });
  return py;
}
