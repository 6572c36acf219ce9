/**
 * The parts of `dateutil` lava templates use: `relativedelta`, `parser`
 * (`isoparse`, `parse`) and `tz` (`tzutc`, `tzlocal`, `gettz`, `tzoffset`, `UTC`).
 */
import { PyError, typeError, valueError } from "./errors";
import { type DtEnv, makeDateTime, PyDate, PyDateTime } from "./py-datetime";
import { PyTimeDelta } from "./py-timedelta";
import { civilFromDays, daysFromCivil, daysInMonth, FixedTz, US_PER_DAY, ZoneTz } from "./py-tz";
import {
  asStr,
  bind,
  intOf,
  type Kwargs,
  numeric,
  PyFunction,
  PyModule,
  PyObject,
  type PyValue,
  typeName,
} from "./values";

const REL = [
  "years",
  "months",
  "days",
  "leapdays",
  "hours",
  "minutes",
  "seconds",
  "microseconds",
] as const;
const ABS = ["year", "month", "day", "weekday", "hour", "minute", "second", "microsecond"] as const;
type Rel = Record<(typeof REL)[number], number>;
type Abs = Partial<Record<(typeof ABS)[number], number>>;

function divmodToward(value: number, unit: number): [number, number] {
  const s = Math.sign(value) || 1;
  const div = Math.floor((value * s) / unit);
  return [div * s, (value * s - div * unit) * s];
}

/** dateutil's `relativedelta` (relative and absolute fields; not weekday rules). */
export class PyRelativeDelta extends PyObject {
  readonly typeName = "relativedelta";
  readonly rel: Rel;
  constructor(
    readonly env: DtEnv,
    rel: Partial<Rel>,
    readonly abs: Abs,
  ) {
    super();
    const r: Rel = {
      years: 0,
      months: 0,
      days: 0,
      leapdays: 0,
      hours: 0,
      minutes: 0,
      seconds: 0,
      microseconds: 0,
      ...rel,
    };
    const carry = (from: keyof Rel, to: keyof Rel, limit: number, unit: number) => {
      if (Math.abs(r[from]) > limit) {
        const [div, mod] = divmodToward(r[from], unit);
        r[from] = mod;
        r[to] += div;
      }
    };
    carry("microseconds", "seconds", 999999, 1e6);
    carry("seconds", "minutes", 59, 60);
    carry("minutes", "hours", 59, 60);
    carry("hours", "days", 23, 24);
    carry("months", "years", 11, 12);
    this.rel = r;
  }
  override getAttr(name: string): PyValue | undefined {
    if ((REL as readonly string[]).includes(name))
      return BigInt(Math.trunc(this.rel[name as keyof Rel]));
    if (name === "weeks") return BigInt(Math.trunc(this.rel.days / 7));
    if ((ABS as readonly string[]).includes(name)) {
      const v = this.abs[name as keyof Abs];
      return v === undefined ? null : BigInt(v);
    }
    if (name === "normalized") return new PyFunction(name, () => this);
    return undefined;
  }
  override repr(): string {
    const parts: string[] = [];
    for (const k of REL)
      if (this.rel[k]) parts.push(`${k}=${this.rel[k] > 0 ? "+" : ""}${this.rel[k]}`);
    for (const k of ABS) if (this.abs[k] !== undefined) parts.push(`${k}=${this.abs[k]}`);
    return `relativedelta(${parts.join(", ")})`;
  }
  override truthy(): boolean {
    return REL.some((k) => this.rel[k] !== 0) || ABS.some((k) => this.abs[k] !== undefined);
  }
  override equals(other: PyValue): boolean {
    return other instanceof PyRelativeDelta && other.repr() === this.repr();
  }
  private scaled(f: number): PyRelativeDelta {
    const rel = Object.fromEntries(REL.map((k) => [k, Math.trunc(this.rel[k] * f)])) as Rel;
    return new PyRelativeDelta(this.env, rel, this.abs);
  }
  override binop(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (op === "neg") return this.scaled(-1);
    if (op === "pos") return this;
    if (op === "*") {
      const n = numeric(other);
      return n === undefined ? undefined : this.scaled(n);
    }
    if (other instanceof PyRelativeDelta && (op === "+" || op === "-")) {
      const s = op === "-" ? (reflected ? -1 : 1) : 1;
      const [a, b] = op === "-" && reflected ? [other, this] : [this, other];
      const rel = Object.fromEntries(
        REL.map((k) => [k, a.rel[k] + (op === "-" ? -1 : 1) * b.rel[k]]),
      ) as Rel;
      void s;
      return new PyRelativeDelta(this.env, rel, { ...a.abs, ...b.abs });
    }
    if (other instanceof PyTimeDelta && (op === "+" || (op === "-" && !reflected))) {
      const sign = op === "-" ? -1 : 1;
      return new PyRelativeDelta(
        this.env,
        {
          ...this.rel,
          days: this.rel.days + sign * other.days,
          seconds: this.rel.seconds + sign * other.seconds,
          microseconds: this.rel.microseconds + sign * other.microseconds,
        },
        this.abs,
      );
    }
    if (other instanceof PyDate && (op === "+" || (op === "-" && reflected))) {
      return (op === "-" ? this.scaled(-1) : this).applyTo(other);
    }
    return undefined;
  }
  /** `date + relativedelta`, as dateutil's `__add__` does it. */
  applyTo(d: PyDate): PyDate {
    const hasTime =
      this.rel.hours ||
      this.rel.minutes ||
      this.rel.seconds ||
      this.rel.microseconds ||
      ["hour", "minute", "second", "microsecond"].some(
        (k) => this.abs[k as keyof Abs] !== undefined,
      );
    const base =
      d instanceof PyDateTime
        ? d
        : hasTime
          ? new PyDateTime(this.env, d.days * US_PER_DAY, null)
          : d;
    const f = base.f;
    let year = (this.abs.year ?? f.year) + this.rel.years;
    let month = this.abs.month ?? f.month;
    if (this.rel.months) {
      month += this.rel.months;
      if (month > 12) {
        year += 1;
        month -= 12;
      } else if (month < 1) {
        year -= 1;
        month += 12;
      }
    }
    if (year < 1 || year > 9999) throw valueError(`year ${year} is out of range`);
    const day = Math.min(daysInMonth(year, month), this.abs.day ?? f.day);
    let days = this.rel.days;
    if (
      this.rel.leapdays &&
      month > 2 &&
      ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)
    ) {
      days += this.rel.leapdays;
    }
    if (base instanceof PyDateTime) {
      const replaced = makeDateTime(this.env, {
        year: BigInt(year),
        month: BigInt(month),
        day: BigInt(day),
        hour: BigInt(this.abs.hour ?? f.hour),
        minute: BigInt(this.abs.minute ?? f.minute),
        second: BigInt(this.abs.second ?? f.second),
        microsecond: BigInt(this.abs.microsecond ?? f.us),
        tzinfo: base.tz,
      });
      const delta =
        days * US_PER_DAY +
        ((this.rel.hours * 60 + this.rel.minutes) * 60 + this.rel.seconds) * 1e6 +
        this.rel.microseconds;
      return replaced.plus(delta);
    }
    return new PyDate(this.env, daysFromCivil(year, month, day) + days);
  }
}

function relativedelta(env: DtEnv, args: PyValue[], kwargs: Kwargs): PyRelativeDelta {
  if (args.length)
    throw typeError("relativedelta(dt1, dt2) is not supported here; use keyword arguments");
  const rel: Partial<Rel> = {};
  const abs: Abs = {};
  for (const [k, v] of kwargs) {
    const n = numeric(v);
    if (n === undefined)
      throw typeError(`unsupported type for relativedelta ${k}: '${typeName(v)}'`);
    if (k === "weeks") rel.days = (rel.days ?? 0) + n * 7;
    else if ((REL as readonly string[]).includes(k)) {
      if ((k === "years" || k === "months") && !Number.isInteger(n)) {
        throw valueError("Non-integer years and months are ambiguous and not currently supported.");
      }
      rel[k as keyof Rel] = (rel[k as keyof Rel] ?? 0) + n;
    } else if ((ABS as readonly string[]).includes(k) && k !== "weekday") {
      const i = intOf(v);
      if (i === undefined) throw typeError(`${k} must be an integer`);
      abs[k as keyof Abs] = Number(i);
    } else throw typeError(`__init__() got an unexpected keyword argument '${k}'`);
  }
  return new PyRelativeDelta(env, rel, abs);
}

/** dateutil's `isoparse`. */
export function isoparse(env: DtEnv, text: string): PyDateTime {
  let s = text;
  const week = /^(\d{4})-?W(\d{2})(?:-?([1-7]))?(.*)$/.exec(s);
  if (week) {
    const y = Number(week[1]);
    const jan4 = daysFromCivil(y, 1, 4);
    const monday = jan4 - ((((jan4 + 3) % 7) + 7) % 7);
    const [yy, mm, dd] = civilFromDays(
      monday + (Number(week[2]) - 1) * 7 + Number(week[3] ?? 1) - 1,
    );
    const p2 = (n: number) => String(n).padStart(2, "0");
    s = `${String(yy).padStart(4, "0")}-${p2(mm)}-${p2(dd)}${week[4] ?? ""}`;
  }
  const m =
    /^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(
      s,
    );
  if (!m) throw valueError(`invalid ISO string: ${s}`);
  let hour = Number(m[4] ?? 0);
  const tz = tzFromText(m[8]);
  let extraDay = 0;
  if (hour === 24) {
    if (Number(m[5] ?? 0) || Number(m[6] ?? 0) || Number(m[7] ?? 0))
      throw valueError("Hour may only be 24 at 24:00:00.000");
    hour = 0;
    extraDay = 1;
  }
  const dt = makeDateTime(env, {
    year: BigInt(m[1] ?? 1),
    month: BigInt(m[2] ?? 1),
    day: BigInt(m[3] ?? 1),
    hour: BigInt(hour),
    minute: BigInt(m[5] ?? 0),
    second: BigInt(m[6] ?? 0),
    microsecond: BigInt((m[7] ?? "").slice(0, 6).padEnd(6, "0") || 0),
    tzinfo: tz,
  });
  return extraDay ? dt.plus(US_PER_DAY) : dt;
}

function tzFromText(t: string | undefined): FixedTz | null {
  if (t === undefined) return null;
  if (t === "Z" || t === "UTC" || t === "GMT") return TZUTC;
  const d = t.replace(":", "");
  const secs =
    (d.startsWith("-") ? -1 : 1) * (Number(d.slice(1, 3)) * 3600 + Number(d.slice(3, 5) || 0) * 60);
  return secs === 0 ? TZUTC : new FixedTz(secs, "tzoffset");
}

const TZUTC = new FixedTz(0, "tzutc");
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** dateutil's `parser.parse` for the usual shapes (ISO, `11 Feb 2020 09:30`, `02/11/2020`). */
export function parse(env: DtEnv, s: string, kwargs: Kwargs): PyDateTime {
  const dayfirst = kwargs.get("dayfirst") === true;
  const text = s.trim();
  const tzm = /\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})$/i.exec(text);
  let body = tzm ? text.slice(0, tzm.index) : text;
  const tz = tzm ? tzFromText((tzm[1] ?? "").toUpperCase()) : null;
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let us = 0;
  const time = /(?:^|[T\s])(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?\s*(am|pm)?/i.exec(
    body,
  );
  if (time) {
    hour = Number(time[1]);
    minute = Number(time[2]);
    second = Number(time[3] ?? 0);
    us = Number((time[4] ?? "").padEnd(6, "0") || 0);
    if (time[5]) hour = (hour % 12) + (time[5].toLowerCase() === "pm" ? 12 : 0);
    body = (body.slice(0, time.index) + body.slice(time.index + time[0].length)).trim();
  }
  const iso = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(body);
  const numeric3 = /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})$/.exec(body);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (numeric3) {
    const [a, b, c] = [numeric3[1] ?? "", numeric3[2] ?? "", numeric3[3] ?? ""];
    if (a.length === 4) [year, month, day] = [Number(a), Number(b), Number(c)];
    else {
      year =
        c.length <= 2
          ? 2000 + Number(c) - (Number(c) >= 50 + (new Date().getUTCFullYear() % 100) ? 100 : 0)
          : Number(c);
      [month, day] = dayfirst ? [Number(b), Number(a)] : [Number(a), Number(b)];
    }
  } else {
    for (const w of body.split(/[\s,]+/).filter(Boolean)) {
      const mi = MONTHS.indexOf(w.toLowerCase().slice(0, 3));
      if (/^[a-z]+\.?$/i.test(w)) {
        if (mi >= 0) month = mi + 1;
        continue;
      }
      if (!/^\d+(st|nd|rd|th)?$/i.test(w)) throw valueError(`Unknown string format: ${s}`);
      const n = Number.parseInt(w, 10);
      if (w.length === 4 || n > 31) year = n;
      else if (day === undefined) day = n;
      else year = n;
    }
  }
  if (body !== "" && year === undefined && month === undefined && day === undefined)
    throw valueError(`Unknown string format: ${s}`);
  if (body === "" && !time)
    throw new PyError("ParserError", `String does not contain a date: ${s}`);
  const now = new PyDateTime(env, env.nowUs() + env.local.offsetAtInstant(env.nowUs()) * 1e6, null)
    .f;
  return makeDateTime(env, {
    year: BigInt(year ?? now.year),
    month: BigInt(month ?? now.month),
    day: BigInt(day ?? now.day),
    hour: BigInt(hour),
    minute: BigInt(minute),
    second: BigInt(second),
    microsecond: BigInt(us),
    tzinfo: tz,
  });
}

/** The `dateutil` module for an env, and its `parser` (lava's `utils.parsedate`). */
export function dateutilModules(env: DtEnv): { dateutil: PyModule; parser: PyModule } {
  const rdClass = new PyFunction("relativedelta", (a, kw) => relativedelta(env, a, kw));
  const parser = new PyModule("dateutil.parser", {
    isoparse: new PyFunction("isoparse", (a) =>
      isoparse(env, asStr(a[0] ?? null, "isoparse() argument")),
    ),
    parse: new PyFunction("parse", (a, kw) =>
      parse(env, asStr(a[0] ?? null, "Parser must be a string or character stream, not"), kw),
    ),
  });
  const tz = new PyModule("dateutil.tz", {
    UTC: TZUTC,
    tzutc: new PyFunction("tzutc", () => TZUTC),
    tzlocal: new PyFunction("tzlocal", () => env.local),
    tzoffset: new PyFunction("tzoffset", (a, kw) => {
      const b = bind("tzoffset", ["name", "offset"], a, kw);
      const off = b.offset;
      const secs = off instanceof PyTimeDelta ? off.us / 1e6 : Number(numeric(off ?? null) ?? 0);
      return new FixedTz(secs, "tzoffset", typeof b.name === "string" ? b.name : undefined);
    }),
    gettz: new PyFunction("gettz", (a) => {
      const name = a[0] ?? null;
      if (name === null || name === "") return env.local;
      const zone = asStr(name, "gettz() argument");
      if (zone === "UTC" || zone === "GMT") return TZUTC;
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
      } catch {
        return null;
      }
      return new ZoneTz(zone, "tzfile");
    }),
  });
  const dateutil = new PyModule("dateutil", {
    relativedelta: new PyModule("dateutil.relativedelta", { relativedelta: rdClass }),
    parser,
    tz,
  });
  return { dateutil, parser };
}
