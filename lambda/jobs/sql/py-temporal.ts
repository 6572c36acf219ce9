/**
 * pg8000's converters for dates, times and intervals (pg8000/converters.py
 * date_in, time_in, timestamp_in, timestamptz_in, interval_in and
 * pg8000/types.py PGInterval), from PostgreSQL's ISO DateStyle and postgres
 * IntervalStyle text. Each returns what pg8000 returns, the text included where
 * pg8000 gives the text back; each throws where pg8000 raises.
 */
import { pyFloat, pyInt } from "./py-parse";
import { NONE, type PyCell, type PyDateTime, timedeltaOf } from "./py-values";

const str = (v: string): PyCell => ({ t: "str", v });

function daysIn(y: number, mo: number): number {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;
}

function validDate(y: number, mo: number, d: number): boolean {
  return y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo);
}

/** `%f`: up to six digits, padded on the right. */
const micros = (f: string | undefined) => Number((f ?? "").padEnd(6, "0"));

/** date_in: strptime("%Y-%m-%d"), else the text (infinity, BC, years past 9999). */
export function dateIn(text: string): PyCell {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  const [y, mo, d] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  return m && validDate(y, mo, d) ? { t: "date", y, mo, d } : str(text);
}

/** time_in: strptime("%H:%M:%S[.%f]"); pg8000 raises on anything else (`24:00:00`). */
export function timeIn(text: string): PyCell {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
  const [h, mi, s] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (!m || h > 23 || mi > 59 || s > 59) throw new Error(`time data ${text} does not match`);
  return { t: "time", h, mi, s, us: micros(m[4]) };
}

const TS = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/;

function datetime(m: RegExpExecArray, off: number | null, tzoffset = false): PyDateTime | null {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (y === undefined || mo === undefined || d === undefined || !validDate(y, mo, d)) return null;
  if (h === undefined || mi === undefined || s === undefined) return null;
  if (h > 23 || mi > 59 || s > 59) return null;
  const us = micros(m[7]);
  return { t: "datetime", y, mo, d, h, mi, s, us, off, ...(tzoffset ? { tz: "tzoffset" } : {}) };
}

/**
 * timestamp_in: strptime, then dateutil's parse, else the text. dateutil reads
 * a BC timestamp's `BC` as an unknown zone name and drops it: `0044-03-15
 * 10:00:00 BC` becomes 44 AD (when that date exists in 44 AD).
 */
export function timestampIn(text: string): PyCell {
  const m = new RegExp(`${TS.source}( BC)?$`).exec(text);
  return (m && datetime(m, null)) ?? str(text);
}

/**
 * timestamptz_in: strptime(text + "00", "...%z") reads `+11` (a timezone);
 * `+05:30` fails there ("Inconsistent use of :") and dateutil reads it (a
 * tzoffset); `+10:04:52` (LMT), BC and years past 9999 stay text.
 */
export function timestamptzIn(text: string): PyCell {
  const m = new RegExp(`${TS.source}([+-])(\\d\\d)(?::(\\d\\d))?$`).exec(text);
  if (!m) return str(text);
  const off = (m[8] === "-" ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60);
  return datetime(m, off, m[10] !== undefined) ?? str(text);
}

/** PGInterval.UNIT_MAP by field, the fields in PGInterval's order. */
const UNIT_NAMES: Record<string, string> = {
  millennia: "millennium",
  centuries: "century",
  decades: "decade",
  years: "year",
  months: "month mon mons",
  weeks: "week",
  days: "day",
  hours: "hour",
  minutes: "minute mins",
  seconds: "second secs",
  microseconds: "microsecond",
};
const FIELDS = Object.keys(UNIT_NAMES);
const UNITS = new Map(
  Object.entries(UNIT_NAMES).flatMap(([f, names]) => [f, ...names.split(" ")].map((n) => [n, f])),
);

const neg = (c: PyCell): PyCell =>
  c.t === "int"
    ? { t: "int", v: (-BigInt(c.v)).toString() }
    : c.t === "float"
      ? { t: "float", v: c.v.startsWith("-") ? c.v.slice(1) : `-${c.v}` }
      : c;
const isZero = (c: PyCell) => (c.t === "int" || c.t === "float") && Number(c.v) === 0;

/** PGInterval.from_str: the iso_8601, postgres(_verbose) and sql_standard parsers. */
function pgInterval(s: string): Map<string, PyCell> {
  const t = new Map<string, PyCell>();
  const parts = s.split(/\s+/).filter(Boolean);
  if (!parts.length) throw new Error("IndexError: list index out of range");
  const hms = (k: string, sign: 1 | -1, keepZero: boolean) => {
    const [h, mi, sec, ...extra] = k.split(":");
    if (h === undefined || mi === undefined || sec === undefined || extra.length)
      throw new Error(`not enough values to unpack: ${k}`);
    const fields: [string, PyCell][] = [
      ["hours", pyInt(h)],
      ["minutes", pyInt(mi)],
    ];
    fields.push(["seconds", pyFloat(sec)]);
    for (const [name, v] of fields) if (keepZero || !isZero(v)) t.set(name, sign < 0 ? neg(v) : v);
  };
  if (s.startsWith("P")) {
    let time = false;
    let val = "";
    for (const c of s.slice(1)) {
      if (c === "T") time = true;
      else if (/[0-9.-]/.test(c)) val += c;
      else {
        const name = {
          Y: "years",
          M: time ? "minutes" : "months",
          D: "days",
          H: "hours",
          S: "seconds",
        }[c];
        if (!name || (time ? "YD".includes(c) : "HS".includes(c))) throw new Error(`KeyError ${c}`);
        t.set(name, name === "seconds" ? pyFloat(val) : pyInt(val));
        val = "";
      }
    }
  } else if (
    s.startsWith("@") ||
    (parts.length > 1 && /^\p{L}/u.test(parts[1] ?? "")) ||
    (parts.length === 1 && parts[0]?.includes(":"))
  ) {
    let curr: PyCell = NONE;
    for (const k of parts) {
      if (k.includes(":")) hms(k, 1, false);
      else if (k === "@") continue;
      else if (k === "ago") for (const [name, v] of t) t.set(name, neg(v));
      else if (/^\s*[+-]?\d+\s*$/.test(k)) curr = pyInt(k);
      else {
        const unit = UNITS.get(k);
        if (!unit) throw new Error(`KeyError: ${k}`);
        t.set(unit, curr);
      }
    }
  } else {
    const month = parts.length === 2 ? undefined : parts[0];
    const day = parts.length === 1 ? [] : parts.length === 2 ? parts : parts.slice(1);
    if (month !== undefined) {
      const sign = month.startsWith("-") ? -1 : 1;
      const ym = (sign < 0 ? month.slice(1) : month).split("-");
      if (ym.length !== 2) throw new Error(`bad year-month: ${month}`);
      t.set("years", sign < 0 ? neg(pyInt(ym[0] ?? "")) : pyInt(ym[0] ?? ""));
      t.set("months", sign < 0 ? neg(pyInt(ym[1] ?? "")) : pyInt(ym[1] ?? ""));
    }
    if (day.length) {
      t.set("days", pyInt(day[0] ?? ""));
      const tp = day[1] ?? "";
      hms(tp.startsWith("-") ? tp.slice(1) : tp, tp.startsWith("-") ? -1 : 1, true);
    }
  }
  return t;
}

const PER_US: Record<string, bigint> = {
  days: 86_400_000_000n,
  hours: 3_600_000_000n,
  minutes: 60_000_000n,
  seconds: 1_000_000n,
  microseconds: 1n,
};

/** Exact microseconds of a timedelta argument (float seconds: PostgreSQL's six decimals at most). */
function fieldMicros(name: string, c: PyCell): bigint {
  const per = PER_US[name] ?? 0n;
  if (c.t === "int") return BigInt(c.v) * per;
  const m = /^([+-]?)(\d*)\.?(\d*)$/.exec(c.t === "float" ? c.v : "");
  if (!m) throw new Error(`timedelta(${name}=${c.t})`);
  const us = BigInt(m[2] || "0") * 1_000_000n + BigInt((m[3] ?? "").slice(0, 6).padEnd(6, "0"));
  return ((m[1] === "-" ? -us : us) * per) / 1_000_000n;
}

/**
 * interval_in: a timedelta unless the interval has months or years (then the
 * PGInterval: str `1 years 2 months 3 days 4 hours 5 minutes 6.5 seconds`).
 * pg8000 reads `-04:05:06` as -4 hours +5 minutes +6 seconds, and drops a zero
 * hour's sign: `-00:30:00` becomes +30 minutes. Mirrored: that is what lava writes.
 */
export function intervalIn(text: string): PyCell {
  const t = pgInterval(text);
  const fields = FIELDS.flatMap((n) => {
    const v = t.get(n);
    return v === undefined || v.t === "none" ? [] : [[n, v] as const];
  });
  if (fields.some(([n]) => !["days", "hours", "minutes", "seconds", "microseconds"].includes(n)))
    return { t: "pginterval", v: fields };
  const td = timedeltaOf(fields.reduce((sum, [n, v]) => sum + fieldMicros(n, v), 0n));
  if (td.t === "timedelta" && Math.abs(td.d) > 999_999_999) throw new Error("OverflowError");
  return td;
}
